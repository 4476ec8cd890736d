/// Reads the signature pattern language: literal characters, `.`, classes (`[a-z]`, `[^"']`), the escapes `\d \D
/// \w \W \s \S \xHH \t \n \r` and escaped punctuation, groups `( )`, alternation `|`, and the repeats `* + ?
/// {n} {n,} {n,m}`. Everything that would need backtracking (backreferences, lookaround, lazy or possessive repeats)
/// and anchors are refused, so that a compiled pattern always runs in time linear in the text.
struct PatternParser {
    private let bytes: [UInt8]
    private var position = 0
    private var depth = 0

    /// The longest pattern, and the most a `{n,m}` may repeat: the compiled program stays small.
    static let maximumLength = 1024
    static let maximumRepeat = 64
    private static let maximumDepth = 32

    private init(_ text: String) {
        bytes = Array(text.utf8)
    }

    static func parse(_ text: String) throws(PatternError) -> PatternNode {
        var parser = PatternParser(text)
        guard !parser.bytes.isEmpty else { throw PatternError(offset: 0, reason: "the pattern is empty") }
        guard parser.bytes.count <= maximumLength else {
            throw PatternError(offset: maximumLength, reason: "longer than \(maximumLength) bytes")
        }
        let node = try parser.alternation()
        if parser.position < parser.bytes.count {
            throw PatternError(offset: parser.position, reason: "')' without its '('")
        }
        return node
    }

    private var next: UInt8? { position < bytes.count ? bytes[position] : nil }

    private mutating func alternation() throws(PatternError) -> PatternNode {
        var branches = [try sequence()]
        while next == UInt8(ascii: "|") {
            position += 1
            branches.append(try sequence())
        }
        return branches.count == 1 ? branches[0] : .alternation(branches)
    }

    private mutating func sequence() throws(PatternError) -> PatternNode {
        var items: [PatternNode] = []
        while let byte = next, byte != UInt8(ascii: "|"), byte != UInt8(ascii: ")") {
            items.append(try repeated(try atom()))
        }
        return items.count == 1 ? items[0] : .sequence(items)
    }

    private mutating func atom() throws(PatternError) -> PatternNode {
        let start = position
        let byte = bytes[position]
        position += 1
        switch byte {
        case UInt8(ascii: "("):
            if next == UInt8(ascii: "?") {
                throw PatternError(offset: start, reason: "'(?' constructs (lookaround, flags) are not supported")
            }
            depth += 1
            guard depth <= Self.maximumDepth else {
                throw PatternError(offset: start, reason: "groups nested deeper than \(Self.maximumDepth)")
            }
            let inner = try alternation()
            guard next == UInt8(ascii: ")") else { throw PatternError(offset: start, reason: "'(' is never closed") }
            position += 1
            depth -= 1
            return inner
        case UInt8(ascii: "["):
            return .bytes(try byteClass(openedAt: start))
        case UInt8(ascii: "."):
            return .bytes(.all)
        case UInt8(ascii: "\\"):
            return .bytes(try escape())
        case UInt8(ascii: "^"), UInt8(ascii: "$"):
            throw PatternError(offset: start, reason: "anchors are not supported: a signature matches anywhere")
        case UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: "?"):
            throw PatternError(offset: start, reason: "'\(Character(Unicode.Scalar(byte)))' has nothing to repeat")
        case UInt8(ascii: "{") where quantifierFollows(at: start):
            throw PatternError(offset: start, reason: "'{' has nothing to repeat")
        default:
            return .bytes(ByteSet([byte]).caseFolded)
        }
    }

    /// `{` starts a repeat only when digits follow (`{2}`, `{2,}`, `{2,5}`); otherwise it is a literal brace.
    private func quantifierFollows(at index: Int) -> Bool {
        index + 1 < bytes.count && (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index + 1])
    }

    private mutating func repeated(_ node: PatternNode) throws(PatternError) -> PatternNode {
        guard let byte = next else { return node }
        let start = position
        let bounds: (min: Int, max: Int?)
        switch byte {
        case UInt8(ascii: "*"):
            position += 1
            bounds = (0, nil)
        case UInt8(ascii: "+"):
            position += 1
            bounds = (1, nil)
        case UInt8(ascii: "?"):
            position += 1
            bounds = (0, 1)
        case UInt8(ascii: "{") where quantifierFollows(at: position):
            position += 1
            bounds = try braces(openedAt: start)
        default:
            return node
        }
        if let byte = next, [UInt8(ascii: "?"), UInt8(ascii: "+"), UInt8(ascii: "*")].contains(byte) {
            throw PatternError(
                offset: position, reason: "lazy, possessive and repeated repeats are not supported (nor needed)")
        }
        if next == UInt8(ascii: "{"), quantifierFollows(at: position) {
            throw PatternError(offset: position, reason: "a repeat cannot be repeated; group it first")
        }
        return .repetition(node, min: bounds.min, max: bounds.max)
    }

    private mutating func braces(openedAt start: Int) throws(PatternError) -> (min: Int, max: Int?) {
        let low = number()
        var high: Int? = low
        if next == UInt8(ascii: ",") {
            position += 1
            high = next == UInt8(ascii: "}") ? nil : number()
        }
        guard next == UInt8(ascii: "}"), let low else {
            throw PatternError(offset: start, reason: "a repeat is {n}, {n,} or {n,m}")
        }
        position += 1
        guard low <= Self.maximumRepeat, (high ?? low) <= Self.maximumRepeat, low <= (high ?? low) else {
            throw PatternError(
                offset: start, reason: "a repeat's bounds must be in order and at most \(Self.maximumRepeat)")
        }
        return (low, high)
    }

    private mutating func number() -> Int? {
        var value: Int?
        while let byte = next, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte), (value ?? 0) < 10_000 {
            value = (value ?? 0) * 10 + Int(byte - UInt8(ascii: "0"))
            position += 1
        }
        return value
    }

    private mutating func byteClass(openedAt start: Int) throws(PatternError) -> ByteSet {
        var negated = false
        if next == UInt8(ascii: "^") {
            negated = true
            position += 1
        }
        var set = ByteSet()
        var first = true
        while true {
            guard let byte = next else { throw PatternError(offset: start, reason: "'[' is never closed") }
            if byte == UInt8(ascii: "]"), !first {
                position += 1
                break
            }
            first = false
            position += 1
            let low: UInt8
            if byte == UInt8(ascii: "\\") {
                let escaped = try escape()
                guard let single = PatternNode.bytes(escaped).literal else {
                    set = set.union(escaped)
                    continue
                }
                low = single
            } else {
                low = byte
            }
            if next == UInt8(ascii: "-"), position + 1 < bytes.count, bytes[position + 1] != UInt8(ascii: "]") {
                position += 1
                let highByte = bytes[position]
                position += 1
                let high: UInt8
                if highByte == UInt8(ascii: "\\") {
                    guard let single = PatternNode.bytes(try escape()).literal else {
                        throw PatternError(offset: position, reason: "a range ends with one character")
                    }
                    high = single
                } else {
                    high = highByte
                }
                guard low <= high else { throw PatternError(offset: position, reason: "a range runs backwards") }
                set = set.union(ByteSet(low...high))
            } else {
                set.insert(low)
            }
        }
        let folded = set.caseFolded
        return negated ? folded.inverted : folded
    }

    /// After a backslash: a class escape, a control character, `\xHH`, or punctuation taken literally.
    private mutating func escape() throws(PatternError) -> ByteSet {
        let start = position - 1
        guard let byte = next else { throw PatternError(offset: start, reason: "a pattern cannot end with '\\'") }
        position += 1
        switch byte {
        case UInt8(ascii: "d"): return .digits
        case UInt8(ascii: "D"): return ByteSet.digits.inverted
        case UInt8(ascii: "w"): return .word
        case UInt8(ascii: "W"): return ByteSet.word.inverted
        case UInt8(ascii: "s"): return .space
        case UInt8(ascii: "S"): return ByteSet.space.inverted
        case UInt8(ascii: "t"): return ByteSet([9])
        case UInt8(ascii: "n"): return ByteSet([10])
        case UInt8(ascii: "r"): return ByteSet([13])
        case UInt8(ascii: "x"):
            guard position + 2 <= bytes.count, let high = hexDigitValue(bytes[position]),
                let low = hexDigitValue(bytes[position + 1])
            else { throw PatternError(offset: start, reason: "\\x takes two hex digits") }
            position += 2
            return ByteSet([high << 4 | low]).caseFolded
        case UInt8(ascii: "0")...UInt8(ascii: "9"):
            throw PatternError(offset: start, reason: "backreferences are not supported")
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"):
            throw PatternError(
                offset: start, reason: "'\\\(Character(Unicode.Scalar(byte)))' is not an escape this language has")
        default:
            return ByteSet([byte])
        }
    }
}
