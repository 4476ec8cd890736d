import Foundation

/// One blocked source: until when, since when (wall clock, for people), and the finding that blocked it.
public struct IntrusionBlock: Sendable, Hashable {
    public let source: [UInt8]
    public let until: ContinuousClock.Instant
    public let since: Date
    public let finding: IntrusionFinding
    /// Its place in the order blocks were made.
    var sequence = 0

    public init(source: [UInt8], until: ContinuousClock.Instant, since: Date, finding: IntrusionFinding) {
        self.source = source
        self.until = until
        self.since = since
        self.finding = finding
    }
}
