/// A token bucket for one `RequestRate`: full at first, refilled continuously, one token per connection or request.
/// Time is passed in, so the arithmetic is tested without waiting.
public struct TokenBucket: Sendable {
    public private(set) var rate: RequestRate
    private var tokens: Double
    private var refilled: ContinuousClock.Instant

    public init(rate: RequestRate, now: ContinuousClock.Instant) {
        self.rate = rate
        tokens = Double(rate.burst)
        refilled = now
    }

    /// Takes the rate of an edited limit: the tokens there are stay (refilled at the old rate up to now), up to the
    /// new burst, so an edit never hands out a fresh burst.
    public mutating func retune(to rate: RequestRate, now: ContinuousClock.Instant) {
        refill(at: now)
        self.rate = rate
        tokens = min(tokens, Double(rate.burst))
    }

    private mutating func refill(at now: ContinuousClock.Instant) {
        guard now > refilled else { return }
        tokens = min(Double(rate.burst), tokens + (now - refilled).inSeconds * rate.perSecond)
        refilled = now
    }

    /// Takes a token. Returns nil when one was taken, else how long until one will be there (for `Retry-After`).
    public mutating func take(at now: ContinuousClock.Instant) -> Duration? {
        refill(at: now)
        guard tokens < 1 else {
            tokens -= 1
            return nil
        }
        return .seconds((1 - tokens) / rate.perSecond)
    }
}
