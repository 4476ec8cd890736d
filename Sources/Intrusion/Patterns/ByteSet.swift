/// A set of bytes, as a 256-bit mask: what one step of a pattern accepts.
struct ByteSet: Hashable, Sendable {
    private var words: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)

    init() {}

    init(_ bytes: some Sequence<UInt8>) {
        for byte in bytes { insert(byte) }
    }

    init(_ range: ClosedRange<UInt8>) {
        for byte in range { insert(byte) }
    }

    static let all = ByteSet(0...255)
    static let digits = ByteSet(UInt8(ascii: "0")...UInt8(ascii: "9"))
    static let space = ByteSet(" \t\n\r\u{0B}\u{0C}".utf8)
    static let word = ByteSet(UInt8(ascii: "a")...UInt8(ascii: "z")).union(
        ByteSet(UInt8(ascii: "A")...UInt8(ascii: "Z"))
    )
    .union(digits).union(ByteSet([UInt8(ascii: "_")]))

    func contains(_ byte: UInt8) -> Bool {
        let bit = UInt64(1) << UInt64(byte & 63)
        switch byte >> 6 {
        case 0: return words.0 & bit != 0
        case 1: return words.1 & bit != 0
        case 2: return words.2 & bit != 0
        default: return words.3 & bit != 0
        }
    }

    mutating func insert(_ byte: UInt8) {
        let bit = UInt64(1) << UInt64(byte & 63)
        switch byte >> 6 {
        case 0: words.0 |= bit
        case 1: words.1 |= bit
        case 2: words.2 |= bit
        default: words.3 |= bit
        }
    }

    func union(_ other: ByteSet) -> ByteSet {
        var result = self
        result.words = (
            words.0 | other.words.0, words.1 | other.words.1, words.2 | other.words.2, words.3 | other.words.3
        )
        return result
    }

    var inverted: ByteSet {
        var result = self
        result.words = (~words.0, ~words.1, ~words.2, ~words.3)
        return result
    }

    /// Patterns match without regard to ASCII case, against text already lower-cased: each upper-case letter in the
    /// set becomes its lower-case one, so that a folded letter is still one literal byte (which the prefilter needs).
    var caseFolded: ByteSet {
        var result = ByteSet()
        for byte in UInt8.min...UInt8.max where contains(byte) {
            result.insert((UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte) ? byte | 0x20 : byte)
        }
        return result
    }

    static func == (lhs: ByteSet, rhs: ByteSet) -> Bool {
        lhs.words == rhs.words
    }

    func hash(into hasher: inout Hasher) {
        hasher.combine(words.0)
        hasher.combine(words.1)
        hasher.combine(words.2)
        hasher.combine(words.3)
    }
}
