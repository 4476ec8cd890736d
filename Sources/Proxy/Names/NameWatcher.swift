import NIOCore
import NIOPosix
import Policy
import ServiceLifecycle

/// Looks up, every few seconds, the names the allow rules give (those without a wildcard), through the DNS listener's
/// forwarder and its cache, so an allow by name knows the name's current addresses even for an app that never asked
/// the pod's DNS (a hard-coded address, `/etc/hosts`, a resolver of its own). Names under a wildcard are known only
/// from the answers the pod itself got.
public struct NameWatcher: Service {
    private let configurations: ConfigurationStore
    private let forwarder: DNSForwarder

    /// Often enough that a name's addresses never lapse between an answer's TTL and the next look (the cache answers
    /// in between, at no cost upstream).
    static let interval: Duration = .seconds(5)

    public init(configurations: ConfigurationStore, forwarder: DNSForwarder) {
        self.configurations = configurations
        self.forwarder = forwarder
    }

    public func run() async {
        let loop = MultiThreadedEventLoopGroup.singleton.next()
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            for name in configurations.current.allowedNames { forwarder.lookUp(name, on: loop) }
            // Ends at once on graceful shutdown, as the sleep is cancelled then.
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: Self.interval) }
        }
    }
}
