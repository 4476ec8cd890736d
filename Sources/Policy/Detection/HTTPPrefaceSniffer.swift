/// Recognises HTTP from a connection's first bytes, as they arrive: the HTTP/2 prior-knowledge preface, or the start
/// of an HTTP/1.x request as the most lenient server would read it.
///
/// Fail closed: what any HTTP server could still take for a request is never called `notHTTP`, since bytes called
/// so are relayed past every HTTP rule. So the request line is read the way RFC 9112 lets a lenient server read it:
/// blank lines and whitespace before it skipped (§2.2), any whitespace between its words (§3), a version-less
/// `GET /path` (HTTP/0.9), and a line longer than the proxy waits for counts as HTTP. The strict parser that then
/// proxies the connection judges the request itself (400, 414, 431).
///
/// Resumable: each call reads only the bytes added since the last one, so a request sent a byte at a time costs
/// linear work.
public struct HTTPPrefaceSniffer: Sendable {
    public enum Result: Sendable, Hashable {
        case needMoreData
        case http1
        case http2
        case notHTTP
    }

    /// RFC 9113 §3.4.
    static let http2Preface = Array("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".utf8)

    /// Waiting ends here: a first line this long that still reads as a request is taken for one.
    public static let maximumRequestLine = 8 * 1024

    private enum Phase: Sendable {
        /// Blank lines and whitespace before the method.
        case leading
        case method
        /// Whitespace after a word of the line.
        case gap
        /// A word after the method: the target, or another word of a target with spaces in it.
        case word
        /// A word that has matched `count` bytes of `HTTP/` so far, and then needs a digit.
        case version(count: Int)
    }

    private var phase = Phase.leading
    /// How many bytes have been read.
    private var position = 0
    /// The method's first bytes and its length, to tell `GET` (the one method HTTP/0.9 has) from the rest.
    private var method: [UInt8] = []
    private var methodLength = 0
    /// Words after the method so far.
    private var words = 0

    public init() {}

    /// Reads what `bytes` (everything the connection has sent) adds since the last call.
    public mutating func sniff<Bytes: RandomAccessCollection<UInt8>>(_ bytes: Bytes) -> Result
    where Bytes.Index == Int {
        let preface = Self.http2Preface
        let prefaceLength = min(bytes.count, preface.count)
        if bytes.prefix(prefaceLength).elementsEqual(preface.prefix(prefaceLength)) {
            return bytes.count >= preface.count ? .http2 : .needMoreData
        }
        while position < bytes.count {
            let byte = bytes[bytes.startIndex + position]
            position += 1
            if let result = read(byte) { return result }
            guard position < Self.maximumRequestLine else { return .http1 }
        }
        return .needMoreData
    }

    /// One more byte of the first line; a result once the line says what it is.
    private mutating func read(_ byte: UInt8) -> Result? {
        let isLineEnd = byte == UInt8(ascii: "\n")
        let isSpace = Self.isWhitespace(byte)
        switch phase {
        case .leading:
            if isLineEnd || isSpace { return nil }
            guard Self.isTokenCharacter(byte) else { return .notHTTP }
            phase = .method
            return read(byte)
        case .method:
            if isSpace {
                phase = .gap
            } else if isLineEnd || !Self.isTokenCharacter(byte) {
                return .notHTTP
            } else {
                if methodLength < 3 { method.append(byte) }
                methodLength += 1
            }
        case .gap:
            if isLineEnd { return endOfLine() }
            if isSpace { return nil }
            words += 1
            phase = words > 1 ? .version(count: 0) : .word
            return read(byte)
        case .word:
            if isLineEnd { return endOfLine() }
            if isSpace { phase = .gap }
        case .version(let count):
            if count == Self.versionPrefix.count {
                // A word like `HTTP/1.1`: a server reading leniently takes the line for a request.
                if (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) { return .http1 }
                phase = .word
                return read(byte)
            }
            if Self.versionPrefix[count] == byte | 0x20 {
                phase = .version(count: count + 1)
            } else {
                phase = .word
                return read(byte)
            }
        }
        return nil
    }

    /// The first line ended without a version: only `GET target` is a request (HTTP/0.9).
    private func endOfLine() -> Result {
        words == 1 && methodLength == 3 && method == Array("GET".utf8) ? .http1 : .notHTTP
    }

    /// `http/`, compared without regard to case.
    private static let versionPrefix = Array("http/".utf8)

    /// What RFC 9112 §3 lets a recipient take for the separator between words: SP, HTAB, VT, FF and a bare CR.
    private static func isWhitespace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x09 || byte == 0x0b || byte == 0x0c || byte == 0x0d
    }

    /// RFC 9110 tchar.
    private static func isTokenCharacter(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"):
            true
        default:
            "!#$%&'*+-.^_`|~".utf8.contains(byte)
        }
    }
}
