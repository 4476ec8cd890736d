/// A port or an inclusive range of ports, written `8080` or `8000-8999`.
public struct PortRange: Sendable, Hashable, Comparable, CustomStringConvertible {
    public let low: UInt16
    public let high: UInt16

    /// Why a port or range was rejected, naming the text.
    public struct ParseError: Error, Hashable, CustomStringConvertible {
        public let text: String
        public let reason: String
        public var description: String { "'\(text)': \(reason)" }
    }

    public init(_ port: UInt16) {
        self.init(low: port, high: port)
    }

    public init(low: UInt16, high: UInt16) {
        precondition(low <= high)
        self.low = low
        self.high = high
    }

    /// Parses `N` or `A-B`: ports 1-65535, A ≤ B.
    public init(parsing text: String) throws(ParseError) {
        let parts = text.split(separator: "-", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        func port(_ part: String) throws(ParseError) -> UInt16 {
            guard !part.isEmpty, part.allSatisfy({ ("0"..."9").contains($0) }), let value = Int(part),
                (1...65535).contains(value)
            else { throw ParseError(text: text, reason: "ports are whole numbers 1-65535") }
            return UInt16(value)
        }
        let low = try port(parts[0])
        let high = parts.count == 2 ? try port(parts[1]) : low
        guard low <= high else { throw ParseError(text: text, reason: "a range runs low-high (\(high)-\(low)?)") }
        self.init(low: low, high: high)
    }

    public var isSinglePort: Bool { low == high }

    public func contains(_ port: UInt16) -> Bool { (low...high).contains(port) }

    public var description: String { isSinglePort ? "\(low)" : "\(low)-\(high)" }

    public static func < (lhs: PortRange, rhs: PortRange) -> Bool {
        (lhs.low, lhs.high) < (rhs.low, rhs.high)
    }

    /// Sorted, with duplicates dropped and, when the list holds a range, overlapping or adjacent entries merged: the
    /// form `nft` itself keeps (a list of single ports stays a plain set of ports).
    public static func normalized(_ ranges: [PortRange]) -> [PortRange] {
        let sorted = Array(Set(ranges)).sorted()
        guard sorted.contains(where: { !$0.isSinglePort }) else { return sorted }
        var merged: [PortRange] = []
        for range in sorted {
            if let last = merged.last, Int(range.low) <= Int(last.high) + 1 {
                merged[merged.count - 1] = PortRange(low: last.low, high: max(last.high, range.high))
            } else {
                merged.append(range)
            }
        }
        return merged
    }
}
