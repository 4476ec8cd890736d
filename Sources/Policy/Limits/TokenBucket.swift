/// A token bucket for one `RequestRate`: full at first, refilled continuously, one token per connection or request.
/// Time is passed in, so the arithmetic is tested without waiting.
public struct TokenBucket: Sendable {
    public let rate: RequestRate
    private var tokens: Double
    private var refilled: ContinuousClock.Instant

    public init(rate: RequestRate, now: ContinuousClock.Instant) {
        self.rate = rate
        tokens = Double(rate.burst)
        refilled = now
    }

    /// Takes a token. Returns nil when one was taken, else how long until one will be there (for `Retry-After`).
    public mutating func take(at now: ContinuousClock.Instant) -> Duration? {
        if now > refilled {
            tokens = min(Double(rate.burst), tokens + (now - refilled).inSeconds * rate.perSecond)
            refilled = now
        }
        guard tokens < 1 else {
            tokens -= 1
            return nil
        }
        return .seconds((1 - tokens) / rate.perSecond)
    }
}
