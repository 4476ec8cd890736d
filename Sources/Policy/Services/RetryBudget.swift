/// Bounds retries so they cannot multiply load on a service that is already failing (linkerd2-proxy's budget):
/// retries may add up to `ratio` of the connections made, plus `minPerSecond` whatever the traffic, and unused
/// allowance is kept for at most `window`.
public struct RetryBudget: Sendable {
    public var ratio = 0.2
    public var minPerSecond = 10.0
    public var window: Duration = .seconds(10)
    private var balance: Double
    private var updated: ContinuousClock.Instant

    public init(now: ContinuousClock.Instant) {
        balance = minPerSecond * window.inSeconds
        updated = now
    }

    private var ceiling: Double { minPerSecond * window.inSeconds * (1 + ratio) }

    /// A first attempt was made: it earns `ratio` of a retry.
    public mutating func deposit(now: ContinuousClock.Instant) {
        refill(now)
        balance = min(ceiling, balance + ratio)
    }

    /// Whether a retry may be made now; it is spent if so.
    public mutating func withdraw(now: ContinuousClock.Instant) -> Bool {
        refill(now)
        // Fifths add up to a whole only within rounding.
        guard balance >= 1 - 1e-9 else { return false }
        balance -= 1
        return true
    }

    private mutating func refill(_ now: ContinuousClock.Instant) {
        guard now > updated else { return }
        balance = min(ceiling, balance + (now - updated).inSeconds * minPerSecond)
        updated = now
    }
}
