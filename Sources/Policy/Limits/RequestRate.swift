/// A token-bucket rate: `perSecond` on average, with bursts of up to `burst` at once.
public struct RequestRate: Sendable, Hashable {
    public var perSecond: Double
    public var burst: Int

    /// - Parameter burst: defaults to one second's worth (at least one).
    public init(perSecond: Double, burst: Int? = nil) {
        self.perSecond = perSecond
        self.burst = burst ?? max(1, Int(perSecond.rounded(.up)))
    }
}
