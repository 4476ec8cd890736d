/// A piece of a request made ready for signatures: percent-escapes decoded until none is left (at most three rounds,
/// which undoes double and triple encoding), framed by a space on either side so that a pattern can ask for a word's
/// edge, and lower-cased (patterns compare without regard to ASCII case).
struct InspectedText {
    /// The decoded text, with its case, framed: evidence is cut from it.
    let decoded: [UInt8]
    /// The same, lower-cased: patterns run on it.
    let folded: [UInt8]

    static let decodingRounds = 3

    init(_ raw: some Sequence<UInt8>) {
        var text = [UInt8(ascii: " ")]
        text.append(contentsOf: raw)
        text.append(UInt8(ascii: " "))
        for _ in 0..<Self.decodingRounds {
            guard let decoded = Self.percentDecoded(text) else { break }
            text = decoded
        }
        decoded = text
        folded = text.map { (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains($0) ? $0 | 0x20 : $0 }
    }

    /// One round of percent-decoding; nil when the text has no valid escape. A malformed escape stays as it is.
    private static func percentDecoded(_ text: [UInt8]) -> [UInt8]? {
        guard text.contains(UInt8(ascii: "%")) else { return nil }
        var result: [UInt8] = []
        result.reserveCapacity(text.count)
        var changed = false
        var index = 0
        while index < text.count {
            if text[index] == UInt8(ascii: "%"), index + 2 < text.count, let high = hexDigitValue(text[index + 1]),
                let low = hexDigitValue(text[index + 2])
            {
                result.append(high << 4 | low)
                index += 3
                changed = true
            } else {
                result.append(text[index])
                index += 1
            }
        }
        return changed ? result : nil
    }

    /// What an alert shows of a match: the bytes matched (in their own case), cut at `limit`, with everything outside
    /// printable ASCII written as `\xHH`. The log's JSON escapes the rest.
    func evidence(_ range: Range<Int>, limit: Int = 128) -> String {
        var text = ""
        for byte in decoded[range].prefix(limit) {
            if (0x20..<0x7F).contains(byte), byte != UInt8(ascii: "\\") {
                text.unicodeScalars.append(Unicode.Scalar(byte))
            } else {
                text += "\\x" + String(byte, radix: 16, uppercase: false).leftPadded(to: 2)
            }
        }
        return range.count > limit ? text + "…" : text
    }
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
