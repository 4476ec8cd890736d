import Policy
import Synchronization

/// The configuration in force, replaced whole on reload. Connections read it once, when they are accepted, and HTTP
/// requests when they arrive, so a reload applies to new connections and requests at once and never disturbs a
/// connection or request under way.
public final class ConfigurationStore: Sendable {
    /// A reload's outcome, kept for the admin API and the logs.
    public struct Status: Sendable {
        public var configuration: ProxyConfiguration
        /// 1 for the configuration loaded at start, plus one per successful reload.
        public var generation: Int
        public var failedReloads: Int
        public var lastReloadError: String?
    }

    private let state: Mutex<Status>
    /// Told of each configuration put in force by a reload, after it is.
    private let observers = Mutex<[@Sendable (ProxyConfiguration) -> Void]>([])

    public init(_ configuration: ProxyConfiguration) {
        state = Mutex(Status(configuration: configuration, generation: 1, failedReloads: 0, lastReloadError: nil))
    }

    public var current: ProxyConfiguration { state.withLock { $0.configuration } }

    /// Calls `observer` with every configuration a reload puts in force from now on.
    func onReplace(_ observer: @escaping @Sendable (ProxyConfiguration) -> Void) {
        observers.withLock { $0.append(observer) }
    }

    public var status: Status { state.withLock { $0 } }

    /// Puts `configuration` in force unless it changes what cannot change while running (the listeners' ports, the
    /// drain timeout the shutdown was set up with);
    /// returns the new generation, or the reason it was refused.
    public func replace(with configuration: ProxyConfiguration) -> Result<Int, ReloadRefused> {
        let result = state.withLock { status -> Result<Int, ReloadRefused> in
            guard configuration.listeners == status.configuration.listeners,
                configuration.timeouts.drain == status.configuration.timeouts.drain
            else {
                let refusal = ReloadRefused(
                    reason: "listeners and the drain timeout cannot change while running; restart the proxy")
                status.failedReloads += 1
                status.lastReloadError = refusal.reason
                return .failure(refusal)
            }
            status.configuration = configuration
            status.generation += 1
            status.lastReloadError = nil
            return .success(status.generation)
        }
        if case .success = result {
            for observer in observers.withLock({ $0 }) { observer(configuration) }
        }
        return result
    }

    /// Counts a reload whose file was invalid; the configuration in force stays.
    public func recordFailedReload(_ reason: String) {
        state.withLock { status in
            status.failedReloads += 1
            status.lastReloadError = reason
        }
    }

    /// Why a reload was not applied.
    public struct ReloadRefused: Error, CustomStringConvertible {
        public let reason: String
        public var description: String { reason }
    }
}
