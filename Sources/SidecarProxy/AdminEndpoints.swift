import Foundation
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
    let started = ContinuousClock.now

    /// `/services`: each service's endpoints, with their open connections and whether outlier detection has them out.
    var serviceEndpoints: HTTPEndpoint {
        HTTPEndpoint(path: "/services") { _ in Self.json(services.snapshot(of: store.current)) }
    }

    /// `/stats`: version, uptime, configuration generation and reload errors, listeners, and the traffic so far.
    var stats: HTTPEndpoint {
        HTTPEndpoint(path: "/stats") { _ in
            let status = store.status
            let listeners = status.configuration.listeners
            let stats = ProxyStats(
                version: SidecarVersion.current, uptimeSeconds: Int((ContinuousClock.now - started).components.seconds),
                configGeneration: status.generation, failedReloads: status.failedReloads,
                lastReloadError: status.lastReloadError,
                listeners: [
                    "outbound": listeners.outbound, "inbound": listeners.inbound, "admin": listeners.admin,
                    "telemetry": listeners.telemetry,
                ], traffic: recorder.snapshot())
            return Self.json(stats)
        }
    }

    /// `/config_dump`: the configuration in force, defaults filled in.
    var configDump: HTTPEndpoint {
        HTTPEndpoint(path: "/config_dump") { _ in
            let status = store.status
            return Self.json(ConfigurationDump(status.configuration, generation: status.generation))
        }
    }

    /// `/explain?destination=IP:PORT[&direction=inbound&source=IP]`: how the policy in force would decide such a
    /// connection, for `sidecar-status explain`.
    var explain: HTTPEndpoint {
        HTTPEndpoint(path: "/explain") { request in
            guard let target = request.query["destination"], let (address, port) = IPNetwork.endpoint(parsing: target),
                let direction = TrafficDirection(rawValue: request.query["direction"] ?? "outbound")
            else {
                return HTTPEndpointResponse(
                    status: .badRequest,
                    body: "give ?destination=IP:PORT, and optionally direction=outbound|inbound and source=IP\n")
            }
            let source = request.query["source"].flatMap { try? IPNetwork(parsing: $0) }
            let facts = ConnectionFacts(
                direction: direction, destinationAddress: address.address, destinationPort: port,
                sourceAddress: source?.address ?? [])
            let status = store.status
            let known = names.snapshot()
            let plan = ConnectionPlanner.plan(facts, detected: nil, in: status.configuration, names: known)
            // Without first bytes to read, the plan for bytes that are neither TLS nor HTTP.
            let decided =
                plan.handling == .detectFirst
                ? ConnectionPlanner.plan(facts, detected: .opaque, in: status.configuration, names: known) : plan
            let decision =
                decided.decision ?? PolicyDecision(action: .deny, ruleIndex: nil, ruleName: "loop to the proxy itself")
            return Self.json(
                PolicyExplanation(
                    direction: direction.rawValue, destination: target, configGeneration: status.generation,
                    inspectsFirstBytes: plan.handling == .detectFirst,
                    action: decision.action.rawValue, rule: decision.ruleName, ruleIndex: decision.ruleIndex,
                    names: Dictionary(
                        uniqueKeysWithValues: status.configuration.allowedNames.map { name in
                            (
                                name,
                                known.addresses(of: name).map {
                                    IPNetwork(
                                        family: $0.count == 4 ? .ipv4 : .ipv6, address: $0, prefixLength: $0.count * 8
                                    ).addressText
                                }
                            )
                        })))
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
