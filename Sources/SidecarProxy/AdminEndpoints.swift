import Foundation
import Identity
import Interception
import Logging
import Policy
import Proxy
import SidecarCLI
import Telemetry

/// The JSON endpoints of the admin port beyond readiness and reload: what the proxy is, and what it carries now.
struct AdminEndpoints: Sendable {
    let store: ConfigurationStore
    let registry: ConnectionRegistry
    let recorder: TrafficRecorder
    let services: ServiceDirectory
    let names: NameAddressBook
    let mesh: MeshCredentials
    let intrusion: IntrusionMonitor
    let identity: IdentityReloader?
    let started = ContinuousClock.now

    /// `/services`: each service's endpoints, with their open connections and whether outlier detection has them out.
    var serviceEndpoints: HTTPEndpoint {
        HTTPEndpoint(path: "/services") { _ in Self.json(services.snapshot(of: store.current)) }
    }

    /// `/ids`: the recent intrusion alerts, newest first, and the sources blocked now.
    var intrusionAlerts: HTTPEndpoint {
        HTTPEndpoint(path: "/ids") { _ in Self.json(intrusion.snapshot()) }
    }

    /// `DELETE /ids/blocks?source=ADDR`: lifts the blocks on a source, in either direction.
    var liftBlock: HTTPEndpoint {
        HTTPEndpoint(method: .DELETE, path: "/ids/blocks") { request in
            guard let text = request.query["source"], let source = try? IPNetwork(parsing: text), source.isHost else {
                return HTTPEndpointResponse(status: .badRequest, body: "give ?source= one IPv4 or IPv6 address\n")
            }
            guard intrusion.lift(source.address) else {
                return HTTPEndpointResponse(status: .notFound, body: "\(source.addressText) is not blocked\n")
            }
            return HTTPEndpointResponse(body: "lifted the block on \(source.addressText)\n")
        }
    }

    /// `/stats`: version, uptime, configuration generation and reload errors, listeners, the workload identity, and
    /// the traffic so far.
    var stats: HTTPEndpoint {
        HTTPEndpoint(path: "/stats") { _ in
            let lastRefusal = await identity?.lastRefusal
            let status = store.status
            let listeners = status.configuration.listeners
            let stats = ProxyStats(
                version: SidecarVersion.current, uptimeSeconds: Int((ContinuousClock.now - started).components.seconds),
                configGeneration: status.generation, failedReloads: status.failedReloads,
                lastReloadError: status.lastReloadError,
                listeners: [
                    "outbound": listeners.outbound, "inbound": listeners.inbound, "admin": listeners.admin,
                    "telemetry": listeners.telemetry,
                ], traffic: recorder.snapshot(),
                identity: mesh.current.map {
                    Self.identityStats($0.identity, mtls: status.configuration.mtls, lastRefusal: lastRefusal)
                })
            return Self.json(stats)
        }
    }

    private static func identityStats(_ identity: WorkloadIdentity, mtls: MeshTLS, lastRefusal: String?)
        -> IdentityStats
    {
        IdentityStats(
            id: "\(identity.id)", validUntil: identity.notValidAfter.formatted(.iso8601),
            secondsLeft: Int(identity.notValidAfter.timeIntervalSinceNow.rounded(.down)),
            trustRoots: identity.bundle.roots.map {
                IdentityStats.TrustRoot(subject: "\($0.subject)", validUntil: $0.notValidAfter.formatted(.iso8601))
            },
            mode: mtls.mode.rawValue,
            portModes: Dictionary(uniqueKeysWithValues: mtls.ports.map { ("\($0.key)", $0.value.rawValue) }),
            lastRefusal: lastRefusal)
    }

    /// `/config_dump`: the configuration in force, defaults filled in.
    var configDump: HTTPEndpoint {
        HTTPEndpoint(path: "/config_dump") { _ in
            let status = store.status
            return Self.json(ConfigurationDump(status.configuration, generation: status.generation))
        }
    }

    /// `/explain?destination=IP:PORT[&direction=inbound&source=IP&peer=SPIFFE-ID]`: how the policy in force would
    /// decide such a connection, from a caller with that identity when given, for `sidecar-status explain`.
    var explain: HTTPEndpoint {
        HTTPEndpoint(path: "/explain") { request in
            let usage =
                "give ?destination=IP:PORT, and optionally direction=outbound|inbound, source=IP and peer=SPIFFE-ID"
            guard let target = request.query["destination"], let (address, port) = IPNetwork.endpoint(parsing: target),
                let direction = TrafficDirection(rawValue: request.query["direction"] ?? "outbound")
            else {
                return HTTPEndpointResponse(status: .badRequest, body: "\(usage)\n")
            }
            var peer: SPIFFEID?
            if let text = request.query["peer"] {
                do {
                    peer = try SPIFFEID(parsing: text)
                } catch {
                    return HTTPEndpointResponse(status: .badRequest, body: "peer '\(text)': \(error)\n")
                }
            }
            let source = request.query["source"].flatMap { try? IPNetwork(parsing: $0) }
            let facts = ConnectionFacts(
                direction: direction, destinationAddress: address.address, destinationPort: port,
                sourceAddress: source?.address ?? [], peer: peer)
            let status = store.status
            let configuration = status.configuration
            let known = names.snapshot()
            let plan = ConnectionPlanner.plan(facts, detected: nil, in: configuration, names: known)
            // Without first bytes to read, the plan for bytes that are neither TLS nor HTTP.
            let decided =
                plan.handling == .detectFirst
                ? ConnectionPlanner.plan(facts, detected: .opaque, in: configuration, names: known) : plan
            let decision =
                decided.decision ?? PolicyDecision(action: .deny, ruleIndex: nil, ruleName: "loop to the proxy itself")
            let mtls: String? =
                switch (configuration.identity, direction) {
                case (nil, _): nil
                case (_, .inbound): configuration.meshMode(forInboundPort: port).rawValue
                case (_, .outbound):
                    configuration.meshPeers(for: facts, service: plan.service) == nil ? "none" : "originate"
                }
            return Self.json(
                PolicyExplanation(
                    direction: direction.rawValue, destination: target, configGeneration: status.generation,
                    inspectsFirstBytes: plan.handling == .detectFirst,
                    action: decision.action.rawValue, rule: decision.ruleName, ruleIndex: decision.ruleIndex,
                    names: Dictionary(
                        uniqueKeysWithValues: configuration.allowedNames.map { name in
                            (
                                name,
                                known.addresses(of: name).map(IPNetwork.text(ofAddress:))
                            )
                        }), peer: peer.map { "\($0)" }, mtls: mtls))
        }
    }

    /// `/connections`: every open connection as its access log line would read now (age as `durationMs`), each
    /// read on its own event loop.
    var connections: HTTPEndpoint {
        HTTPEndpoint(path: "/connections") { _ in
            var entries: [AccessLogEntry] = []
            for entry in registry.openConnections() {
                if let read = try? await entry.get() { entries.append(read) }
            }
            return Self.json(entries.sorted { $0.start.date < $1.start.date })
        }
    }

    /// `/metrics`, also served on the telemetry port.
    static func metrics(_ metrics: ProxyMetrics) -> HTTPEndpoint {
        HTTPEndpoint(path: "/metrics") { _ in
            HTTPEndpointResponse(contentType: "text/plain; version=0.0.4; charset=utf-8", body: metrics.exposition())
        }
    }

    /// `POST /logging?level=debug`: the log level of every logger, at once.
    static func logging(_ levelSwitch: LogLevelSwitch, logger: Logger) -> HTTPEndpoint {
        HTTPEndpoint(method: .POST, path: "/logging") { request in
            guard let text = request.query["level"], let level = Logger.Level(rawValue: text) else {
                return HTTPEndpointResponse(
                    status: .badRequest,
                    body: "give ?level= one of: trace, debug, info, notice, warning, error, critical\n")
            }
            levelSwitch.current = level
            logger.notice("log level changed", metadata: ["level": "\(level)"])
            return HTTPEndpointResponse(body: "log level: \(level)\n")
        }
    }

    private static func json(_ value: some Encodable) -> HTTPEndpointResponse {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        let body = (try? encoder.encode(value)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
        return HTTPEndpointResponse(contentType: "application/json", body: body + "\n")
    }
}
