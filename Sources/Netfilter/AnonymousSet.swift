/// The contents of an anonymous, constant set that one rule looks up: `{ 22, 8000-8999 }` or `{ 10.0.0.0/8, ... }`.
struct AnonymousSet: Hashable, Sendable {
    /// One key, or with `isIntervalEnd` the first key past an interval (the kernel's encoding of ranges).
    struct Element: Hashable, Sendable, Comparable {
        var key: [UInt8]
        var isIntervalEnd: Bool

        static func < (lhs: Element, rhs: Element) -> Bool {
            lhs.key == rhs.key ? !lhs.isIntervalEnd && rhs.isIntervalEnd : lhs.key.lexicographicallyPrecedes(rhs.key)
        }
    }

    /// nftables' data type of the key (`TYPE_*` in nft's datatype.h), which `nft list` uses to print elements.
    var keyType: UInt32
    var keyLength: UInt32
    var isInterval: Bool
    /// Sorted, so a set read back from the kernel compares equal to the one planned.
    var elements: [Element]

    init(keyType: UInt32, keyLength: UInt32, isInterval: Bool, elements: [Element]) {
        self.keyType = keyType
        self.keyLength = keyLength
        self.isInterval = isInterval
        self.elements = elements.sorted()
    }

    /// nft's data types for the keys the project uses.
    enum KeyType {
        static let ipv4Address: UInt32 = 7
        static let ipv6Address: UInt32 = 8
        static let transportProtocol: UInt32 = 12
        static let port: UInt32 = 13
        static let interfaceName: UInt32 = 41
    }

    /// A set of single keys.
    static func keys(_ keys: [[UInt8]], type: UInt32) -> AnonymousSet {
        AnonymousSet(
            keyType: type, keyLength: UInt32(keys[0].count), isInterval: false,
            elements: keys.map { Element(key: $0, isIntervalEnd: false) })
    }

    /// A set of inclusive ranges of big-endian keys, encoded as `nft` does: overlapping and adjacent ranges merged,
    /// each range as its first key and the key past its end (flagged as an end), and a leading end at zero when the
    /// first range does not start there. A range that reaches the largest key has no end element.
    static func intervals(_ ranges: [(low: [UInt8], high: [UInt8])], type: UInt32) -> AnonymousSet {
        let sorted = ranges.sorted { $0.low.lexicographicallyPrecedes($1.low) }
        var merged: [(low: [UInt8], high: [UInt8])] = []
        for range in sorted {
            guard let last = merged.last else {
                merged.append(range)
                continue
            }
            // Overlapping or adjacent: the range starts no later than one past the last one's end.
            let touches = successor(last.high).map { !$0.lexicographicallyPrecedes(range.low) } ?? true
            if !touches {
                merged.append(range)
            } else if last.high.lexicographicallyPrecedes(range.high) {
                merged[merged.count - 1].high = range.high
            }
        }
        let zero = [UInt8](repeating: 0, count: sorted[0].low.count)
        var elements: [Element] = []
        if merged[0].low != zero { elements.append(Element(key: zero, isIntervalEnd: true)) }
        for range in merged {
            elements.append(Element(key: range.low, isIntervalEnd: false))
            if let end = successor(range.high) { elements.append(Element(key: end, isIntervalEnd: true)) }
        }
        return AnonymousSet(keyType: type, keyLength: UInt32(zero.count), isInterval: true, elements: elements)
    }

    /// The big-endian key one past `key`, or nil when `key` is the largest.
    private static func successor(_ key: [UInt8]) -> [UInt8]? {
        var next = key
        for index in next.indices.reversed() {
            if next[index] == 0xff {
                next[index] = 0
            } else {
                next[index] += 1
                return next
            }
        }
        return nil
    }
}
