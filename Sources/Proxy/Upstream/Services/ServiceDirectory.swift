import Logging
import Policy
import Synchronization
import Telemetry

/// The runtime of every configured service, by definition: a reload that keeps a service as it was keeps what is
/// known of its endpoints, and one that changes it starts afresh.
public final class ServiceDirectory: Sendable {
    private let runtimes = Mutex<[ServiceDefinition: ServiceRuntime]>([:])
    private let configurations: ConfigurationStore
    private let logger: Logger

    public init(configurations: ConfigurationStore, logger: Logger) {
        self.configurations = configurations
        self.logger = logger
    }

    /// The runtime of a service a connection's plan goes to.
    func runtime(for definition: ServiceDefinition) -> ServiceRuntime {
        runtimes.withLock { runtimes in
            if let runtime = runtimes[definition] { return runtime }
            // Services the configuration in force no longer has are let go (their open connections keep their
            // runtime). The one in force, not the connection's: that may be older than a reload.
            let current = configurations.current.services
            runtimes = runtimes.filter { current.contains($0.key) }
            let runtime = ServiceRuntime(definition, logger: logger)
            runtimes[definition] = runtime
            return runtime
        }
    }

    /// The services of `configuration` with their endpoints as known now; those no connection used yet have no
    /// endpoints listed (names are resolved on first use).
    public func snapshot(of configuration: ProxyConfiguration) -> [ServiceSnapshot] {
        let known = runtimes.withLock { $0 }
        return configuration.services.map { definition in
            let endpoints = known[definition]?.endpoints() ?? []
            return ServiceSnapshot(
                name: definition.name, address: definition.addressDescription,
                balancer: definition.balancer.rawValue,
                endpoints: endpoints)
        }
    }
}
