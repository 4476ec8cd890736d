import ArgumentParser
import Foundation
import Identity
import Interception
import Logging
import NIOCore
import Policy
import Proxy
import ServiceLifecycle
import SidecarCLI
import Telemetry

/// `sidecar-proxy run`: serves until SIGTERM or SIGINT, then drains.
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run", abstract: "Serve the capture listeners, telemetry and admin endpoints until SIGTERM.")

    @Option(
        help: "Log level: trace, debug, info, notice, warning, error or critical (default: info).",
        transform: { text in
            guard let level = Logger.Level(rawValue: text) else {
                throw ValidationError("'\(text)' is not a log level")
            }
            return level
        })
    var logLevel: Logger.Level = .info

    @Option(
        help:
            "Configuration file; when the default is absent, the built-in defaults serve. (default: /etc/sidecar/sidecar.yaml)"
    )
    var config: String?

    @Option(
        help: """
            Where the proxy writes, at each start, the token the admin API's mutating endpoints ask for \
            (Authorization: Bearer TOKEN); its folder must exist and be writable by the proxy.
            """)
    var adminTokenFile = "/var/run/sidecar/admin-token"

    @Option(help: "Access log: stdout, off, or a file to append to (default: stdout).")
    var accessLog = "stdout"

    @Option(
        help: ArgumentHelp(
            "Export a span per HTTP request to this OTLP/HTTP collector (like http://collector:4318; spans go to /v1/traces).",
            discussion:
                "Off by default; also on when OTEL_EXPORTER_OTLP_ENDPOINT or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT is set."
        ))
    var otlpEndpoint: String?

    @Option(help: "Where the DNS listener finds the nameservers it forwards to.")
    var resolvConf = "/etc/resolv.conf"

    @Option(help: "OTLP encoding: http/protobuf or http/json.")
    var otlpProtocol: SpanExport.Encoding = .protobuf

    func validate() throws {
        if let otlpEndpoint {
            do {
                _ = try SpanExport.tracesURL(base: otlpEndpoint)
            } catch {
                throw ValidationError("--otlp-endpoint: \(error)")
            }
        }
    }

    func run() async throws {
        let configuration = try ConfigurationFile.load(path: config)
        let appProbes = try Self.appProbes()
        var contexts: MeshTLSContexts?
        if let source = configuration.identity { contexts = try await IdentityFiles.load(source) }
        let adminToken = try AdminToken.create(at: adminTokenFile)
        let levelSwitch = LogLevelSwitch(logLevel)
        LoggingSystem.bootstrap { label in SwitchedLogHandler(label: label, levelSwitch: levelSwitch) }
        let logger = Logger(label: "sidecar-proxy")
        if let identity = contexts?.identity {
            logger.info(
                "workload identity",
                metadata: ["id": "\(identity.id)", "validUntil": "\(identity.notValidAfter.formatted(.iso8601))"])
        }
        let descriptors = FileDescriptorLimit.raiseToHardLimit()
        logger.info(
            "file descriptor limit", metadata: ["soft": "\(descriptors.after)", "before": "\(descriptors.before)"])
        let registry = ConnectionRegistry()
        let store = ConfigurationStore(configuration)
        let mesh = MeshCredentials(contexts)
        let health = HealthState(requirement: {
            guard store.current.mtls.hasStrictPort else { return nil }
            guard let identity = mesh.current?.identity, identity.notValidAfter > Date() else {
                return "a port takes only mutual TLS and the identity in force has expired"
            }
            return nil
        })
        let metrics = ProxyMetrics()
        let accessLog = try openAccessLog(writeFailed: { metrics.accessLogWriteFailed() })
        let spanExport = try startSpanExport(logger: logger)
        let recorder = TrafficRecorder(
            metrics: metrics, tracer: spanExport?.tracer ?? .propagating, accessLog: accessLog)
        let identity = configuration.identity.map { source in
            IdentityReloader(source: source, mesh: mesh, recorder: recorder, logger: logger)
        }
        if let validUntil = contexts?.identity.notValidAfter { recorder.identityInForce(validUntil: validUntil) }
        let reloader = ConfigurationReloader(
            path: config, store: store, identity: identity, recorder: recorder, logger: logger)
        let services = ServiceDirectory(configurations: store, logger: logger)
        let healthChecks = try HealthCheckRunner()
        let names = NameAddressBook()
        let intrusion = IntrusionMonitor(recorder: recorder, logger: logger)
        let adminEndpoints = AdminEndpoints(
            store: store, registry: registry, recorder: recorder, services: services, names: names, mesh: mesh,
            intrusion: intrusion, identity: identity)
        let shutdown = ShutdownTrigger()
        let proxy = ProxyService(
            configurations: store, registry: registry, services: services, names: names, mesh: mesh,
            intrusion: intrusion, recorder: recorder, logger: logger,
            onReady: {
                health.markReady()
                logger.info("ready")
            },
            onDrain: { health.markDraining() })
        let telemetry = HTTPEndpointServer(
            name: "telemetry", hosts: ["0.0.0.0", "::"], port: configuration.listeners.telemetry,
            endpoints: [
                .readiness(path: "/healthz/ready", health: health), .liveness(path: "/healthz/live"),
                AdminEndpoints.metrics(recorder.metrics),
            ]
                + AppHealthEndpoints.endpoints(
                    for: appProbes, podAddress: try Self.podAddress(), runner: healthChecks, logger: logger),
            logger: logger)
        let admin = HTTPEndpointServer(
            name: "admin", hosts: ["127.0.0.1"], port: configuration.listeners.admin,
            endpoints: [
                .readiness(path: "/ready", health: health), adminEndpoints.stats, adminEndpoints.connections,
                adminEndpoints.configDump, adminEndpoints.explain, adminEndpoints.serviceEndpoints,
                adminEndpoints.intrusionAlerts, AdminEndpoints.metrics(recorder.metrics),
            ]
                + [
                    AdminEndpoints.logging(levelSwitch, logger: logger), shutdown.drainEndpoint, shutdown.quitEndpoint,
                    reloader.endpoint, adminEndpoints.liftBlock,
                ].map(adminToken.guarding),
            maxConnections: 16, logger: logger)
        let forwarder = DNSForwarder(
            configurations: store, nameservers: nameservers(logger: logger), recorder: recorder, names: names,
            logger: logger)
        let dns = DNSProxyService(forwarder: forwarder, port: Int(InterceptionConfig.dnsRedirectPort), logger: logger)
        // Shutdown runs in reverse order: the proxy drains first while telemetry still answers "not ready".
        // The access log and span export stop last, so what the connections the drain ends did is written.
        let running: [(any Service)?] = [
            accessLog, spanExport?.service, telemetry, admin, dns,
            NameWatcher(configurations: store, forwarder: forwarder), ReloadOnHangupService(reloader: reloader),
            identity.map(IdentityWatcher.init), RepeatedSignalService(registry: registry),
            ServiceHealthChecker(
                configurations: store, directory: services, runner: healthChecks, recorder: recorder, logger: logger),
            proxy,
        ]
        var lifecycle = ServiceGroupConfiguration(
            services: running.compactMap { $0.map { ServiceGroupConfiguration.ServiceConfiguration(service: $0) } },
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger)
        // A backstop: the drain itself is bounded, but no shutdown may outlast it by more than a moment.
        lifecycle.maximumGracefulShutdownDuration = configuration.timeouts.drain + .seconds(5)
        let group = ServiceGroup(configuration: lifecycle)
        shutdown.attach(group)
        try await group.run()
    }

    /// The app's probes `sidecar-inject` handed over (`SIDECAR_APP_PROBES`), checked before anything is served: a
    /// probe the proxy could not run stops the start (exit 2) rather than failing the kubelet's probes later.
    private static func appProbes() throws -> AppProbes {
        guard let text = ProcessInfo.processInfo.environment[AppProbes.environmentVariable] else { return AppProbes() }
        do {
            return try AppProbes.parse(text)
        } catch {
            throw CommandFailure.badInput("\(error)")
        }
    }

    /// The pod's address from the downward API (`SIDECAR_POD_IP`, set by `sidecar-inject`): where app probes
    /// without a host go, as the kubelet's would.
    private static func podAddress() throws -> String? {
        guard let text = ProcessInfo.processInfo.environment["SIDECAR_POD_IP"], !text.isEmpty else { return nil }
        guard (try? SocketAddress(ipAddress: text, port: 0)) != nil else {
            throw CommandFailure.badInput("SIDECAR_POD_IP: '\(text)' is not an IP address")
        }
        return text
    }

    /// Set up before anything is served: an exporter the `OTEL_*` variables misconfigure stops the start (exit 2).
    private func startSpanExport(logger: Logger) throws -> (tracer: RequestTracer, service: any Service)? {
        guard SpanExport.isConfigured(endpoint: otlpEndpoint, environment: ProcessInfo.processInfo.environment) else {
            return nil
        }
        do {
            return try SpanExport.start(endpoint: otlpEndpoint, encoding: otlpProtocol, logger: logger)
        } catch {
            throw CommandFailure.badInput("span export: \(error)")
        }
    }

    /// The pod's nameservers. The file is the pod's, not the operator's: lines a resolver would not use are logged
    /// and left out, as the system resolver leaves them out, and without any nameserver the DNS listener can only
    /// answer denied names and what it has cached (everything else gets SERVFAIL).
    private func nameservers(logger: Logger) -> [SocketAddress] {
        guard let text = try? String(contentsOfFile: resolvConf, encoding: .utf8) else {
            logger.warning("dns: cannot read the nameservers", metadata: ["file": "\(resolvConf)"])
            return []
        }
        let (nameservers, problems) = ResolvConf.nameservers(in: text)
        for problem in problems {
            logger.warning(
                "dns: nameserver line not used", metadata: ["file": "\(resolvConf)", "problem": "\(problem)"])
        }
        if nameservers.isEmpty {
            logger.warning("dns: no nameserver to forward to", metadata: ["file": "\(resolvConf)"])
        }
        return nameservers.compactMap { try? SocketAddress(ipAddress: $0.addressText, port: 53) }
    }

    /// Opened before anything is served: a path that cannot be written stops the start (exit 2).
    private func openAccessLog(writeFailed: @escaping @Sendable () -> Void) throws -> AccessLog? {
        switch accessLog {
        case "off": return nil
        case "stdout": return AccessLog(writeFailed: writeFailed)
        default:
            do {
                return try AccessLog(path: accessLog, writeFailed: writeFailed)
            } catch {
                throw CommandFailure.badInput(
                    "--access-log: cannot write '\(accessLog)': \(error.localizedDescription)")
            }
        }
    }
}

extension SpanExport.Encoding: ExpressibleByArgument {}
