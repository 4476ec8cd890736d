import Foundation
import Logging
import NIOCore
import Policy
import Synchronization
import Telemetry

/// A service's endpoints as the proxy is using them: their addresses (names re-resolved every few seconds), the
/// balancer that picks one per connection, and the retry budget. Shared by every connection to the service, on any
/// event loop.
final class ServiceRuntime: Sendable {
    let definition: ServiceDefinition
    private let logger: Logger
    private let state: Mutex<State>

    private struct State {
        var balancer: EndpointBalancer<SocketAddress>
        var budget: RetryBudget
        var random = SystemRandomNumberGenerator()
        /// When the endpoints were last resolved; nil before the first time.
        var resolved: ContinuousClock.Instant?
        /// A lookup under way, which later connections wait for while there are no addresses yet.
        var lookup: EventLoopFuture<Void>?
        /// What active health checks found, by endpoint, with when they last checked it.
        var health: [SocketAddress: (health: EndpointHealth, checked: Date)] = [:]
    }

    /// How long resolved names are used before they are looked up again.
    static let refreshInterval: Duration = .seconds(5)

    /// No endpoint could be chosen (every name failed to resolve).
    struct NoEndpoint: Error, CustomStringConvertible {
        let service: String
        var description: String { "service \(service) has no endpoint" }
    }

    init(_ definition: ServiceDefinition, logger: Logger) {
        self.definition = definition
        self.logger = logger
        state = Mutex(
            State(
                balancer: EndpointBalancer(
                    balancer: definition.balancer, outlierDetection: definition.outlierDetection),
                budget: RetryBudget(now: .now)))
    }

    /// Connects to one of the service's endpoints through `connect` (which may hand back a pooled connection). A
    /// connect that fails counts against its endpoint and, within `retries` and the retry budget, moves on to another
    /// endpoint.
    func dial(
        on eventLoop: EventLoop, excluding: Set<SocketAddress> = [],
        connect: @escaping @Sendable (SocketAddress) -> EventLoopFuture<UpstreamLease>
    ) -> EventLoopFuture<UpstreamLease> {
        refreshed(on: eventLoop).flatMap {
            // A request sent again to another endpoint is a retry, not traffic that earns retries.
            if excluding.isEmpty { self.state.withLock { $0.budget.deposit(now: .now) } }
            return self.attempt(on: eventLoop, tried: excluding, retriesLeft: self.definition.retries, connect: connect)
        }
    }

    /// The endpoints' addresses as last resolved.
    var addresses: [SocketAddress] {
        state.withLock { $0.balancer.addresses }
    }

    /// Whether a request that failed on the endpoints in `tried` may go to another: one is left, and the retry
    /// budget allows it (spent if so).
    func mayRetry(excluding tried: Set<SocketAddress>) -> Bool {
        state.withLock { state in
            state.balancer.addresses.contains { !tried.contains($0) } && state.budget.withdraw(now: .now)
        }
    }

    private func attempt(
        on eventLoop: EventLoop, tried: Set<SocketAddress>, retriesLeft: Int,
        connect: @escaping @Sendable (SocketAddress) -> EventLoopFuture<UpstreamLease>
    ) -> EventLoopFuture<UpstreamLease> {
        let started = ContinuousClock.now
        guard
            let address = state.withLock({ state in
                state.balancer.pick(excluding: tried, now: started, using: &state.random)
            })
        else {
            return eventLoop.makeFailedFuture(NoEndpoint(service: definition.name))
        }
        // Counted for this endpoint before a failure moves on: a retry that connects counts for its own.
        return connect(address).map { lease in
            let now = ContinuousClock.now
            self.state.withLock { $0.balancer.connected(address, after: lease.reused ? nil : now - started, now: now) }
            lease.ended.whenComplete { _ in self.state.withLock { $0.balancer.released(address) } }
            return lease
        }.flatMapError { error in
            let now = ContinuousClock.now
            let retry = self.state.withLock { state in
                state.balancer.failed(address, now: now)
                let untried = state.balancer.addresses.contains { $0 != address && !tried.contains($0) }
                return retriesLeft > 0 && untried && state.budget.withdraw(now: now)
            }
            self.logger.info(
                "service endpoint connect failed",
                metadata: [
                    "service": "\(self.definition.name)", "endpoint": "\(address)", "error": "\(error)",
                    "retrying": "\(retry)",
                ])
            guard retry else { return eventLoop.makeFailedFuture(error) }
            return self.attempt(
                on: eventLoop, tried: tried.union([address]), retriesLeft: retriesLeft - 1, connect: connect)
        }
    }

    /// An HTTP response from `address`: a 5xx counts as a failure of that endpoint, anything else ends its run.
    func responded(_ status: Int, by address: SocketAddress) {
        guard status >= 500 else { return succeeded(address) }
        let now = ContinuousClock.now
        state.withLock { $0.balancer.failed(address, now: now) }
    }

    /// `address` did its part: for a relayed connection, that it connected.
    func succeeded(_ address: SocketAddress) {
        state.withLock { $0.balancer.succeeded(address) }
    }

    /// Resolves the endpoints when they never were, or were longer ago than the refresh interval. Only the first
    /// lookup is waited for; a refresh runs while connections go on with the addresses already known.
    private func refreshed(on eventLoop: EventLoop) -> EventLoopFuture<Void> {
        let now = ContinuousClock.now
        let (lookup, started, waits): (EventLoopFuture<Void>?, EventLoopPromise<Void>?, Bool) = state.withLock {
            state in
            if let lookup = state.lookup { return (lookup, nil, state.resolved == nil) }
            if let resolved = state.resolved, now - resolved < Self.refreshInterval { return (nil, nil, false) }
            let promise = eventLoop.makePromise(of: Void.self)
            state.lookup = promise.futureResult
            return (promise.futureResult, promise, state.resolved == nil)
        }
        if let started {
            // Started outside the lock: addresses alone resolve at once, and the update takes the lock again.
            EndpointResolver.addresses(of: definition.endpoints, on: eventLoop).whenComplete { result in
                self.resolved(result)
                started.succeed()
            }
        }
        guard let lookup, waits else { return eventLoop.makeSucceededVoidFuture() }
        return lookup.hop(to: eventLoop)
    }

    /// Puts resolved addresses in place; after a failed lookup the last addresses serve until the next one.
    private func resolved(_ result: Result<[SocketAddress], Error>) {
        let kept: Int? = state.withLock { state in
            state.resolved = .now
            state.lookup = nil
            switch result {
            case .success(let addresses):
                state.balancer.update(addresses)
                state.health = state.health.filter { addresses.contains($0.key) }
                return nil
            case .failure:
                return state.balancer.addresses.count
            }
        }
        if case .failure(let error) = result {
            logger.warning(
                "service endpoints not resolved",
                metadata: ["service": "\(definition.name)", "error": "\(error)", "keptEndpoints": "\(kept ?? 0)"])
        }
    }

    /// The endpoints as they are now, resolved first when they never were or are due again: what health checks
    /// go to.
    func currentAddresses(on eventLoop: EventLoop) async -> [SocketAddress] {
        try? await refreshed(on: eventLoop).get()
        return state.withLock { $0.balancer.addresses }
    }

    /// An active health check of `address` ended: its health moves on, and the balancer keeps it in rotation or
    /// not accordingly. Returns its health after the check, and whether its status changed; nil when the endpoint
    /// left while it was checked (its names resolved elsewhere).
    func checked(_ address: SocketAddress, _ outcome: HealthCheckRunner.Outcome, thresholds: ServiceHealthCheck)
        -> (health: EndpointHealth, changed: Bool)?
    {
        let (passed, result) =
            switch outcome {
            case .healthy(let seen): (true, seen)
            case .unhealthy(let reason): (false, reason)
            }
        return state.withLock { state in
            guard state.balancer.addresses.contains(address) else { return nil }
            var health = state.health[address]?.health ?? EndpointHealth()
            let changed = health.record(passed: passed, result: result, thresholds: thresholds)
            state.health[address] = (health, Date())
            state.balancer.setInRotation(address, health.inRotation)
            return (health, changed)
        }
    }

    /// Each endpoint with its open connections, whether it is ejected, and what health checks found, for the admin
    /// API.
    func endpoints(now: ContinuousClock.Instant = .now) -> [ServiceSnapshot.Endpoint] {
        state.withLock { state in
            state.balancer.addresses.map { address in
                let checked = state.health[address]
                return ServiceSnapshot.Endpoint(
                    address: address.endpoint, openConnections: state.balancer.openConnections(to: address),
                    ejected: state.balancer.isEjected(address, now: now),
                    health: definition.healthCheck.map { _ in checked?.health.status.rawValue ?? "unknown" },
                    lastCheck: checked?.checked.formatted(.iso8601), lastResult: checked?.health.lastResult)
            }
        }
    }
}
