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
///
/// A PROXY protocol header (v1's `PROXY …` line, or v2's binary block) before the request is skipped: a server that
/// takes one reads the request behind it, so the request decides.
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
    /// The method's first bytes and its length, to tell `GET` (the one method HTTP/0.9 has) and a PROXY protocol
    /// line from the rest.
    private var method: [UInt8] = []
    private var methodLength = 0
    /// A PROXY protocol header was skipped: only one comes before a request.
    private var skippedProxyHeader = false
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
        if position == 0, !skippedProxyHeader {
            let signature = Self.proxyV2Signature
            let length = min(bytes.count, signature.count)
            if bytes.prefix(length).elementsEqual(signature.prefix(length)) {
                // Signature, version and command, family, a two-byte length, then that many bytes of addresses.
                guard bytes.count >= 16 else { return .needMoreData }
                let start = bytes.startIndex
                position = 16 + (Int(bytes[start + 14]) << 8 | Int(bytes[start + 15]))
                skippedProxyHeader = true
            }
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
            guard ASCII.isTokenCharacter(byte) else { return .notHTTP }
            phase = .method
            return read(byte)
        case .method:
            if isSpace {
                phase = .gap
            } else if isLineEnd || !ASCII.isTokenCharacter(byte) {
                return .notHTTP
            } else {
                if methodLength < 5 { method.append(byte) }
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

    /// The first line ended without a version: only `GET target` is a request (HTTP/0.9), and a PROXY protocol v1
    /// line is skipped for the line after it.
    private mutating func endOfLine() -> Result? {
        if methodLength == 5, method.elementsEqual("PROXY".utf8), !skippedProxyHeader {
            skippedProxyHeader = true
            (phase, method, methodLength, words) = (.leading, [], 0, 0)
            return nil
        }
        return words == 1 && methodLength == 3 && method.elementsEqual("GET".utf8) ? .http1 : .notHTTP
    }

    /// The 12 bytes a PROXY protocol v2 header begins with.
    private static let proxyV2Signature: [UInt8] = [
        0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A,
    ]

    /// `http/`, compared without regard to case.
    private static let versionPrefix = Array("http/".utf8)

    /// What RFC 9112 §3 lets a recipient take for the separator between words: SP, HTAB, VT, FF and a bare CR.
    private static func isWhitespace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x09 || byte == 0x0b || byte == 0x0c || byte == 0x0d
    }
}
