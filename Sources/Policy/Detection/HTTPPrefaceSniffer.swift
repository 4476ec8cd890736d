/// Recognises HTTP from a connection's first bytes: the HTTP/2 prior-knowledge preface, or an HTTP/1.x request line
/// (`METHOD SP target SP HTTP/1.x CRLF`). Pure; undecided only while the bytes could still become either.
public enum HTTPPrefaceSniffer {
    public enum Result: Sendable, Hashable {
        case needMoreData
        case http1
        case http2
        case notHTTP
    }

    /// RFC 9113 §3.4.
    static let http2Preface = Array("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".utf8)

    /// Longer request lines are not worth waiting for: the connection is then treated as opaque.
    public static let maximumRequestLine = 8 * 1024

    public static func sniff(_ bytes: [UInt8]) -> Result {
        if bytes.count >= http2Preface.count, bytes.starts(with: http2Preface) { return .http2 }
        let couldBeHTTP2 = http2Preface.starts(with: bytes.prefix(http2Preface.count))
        switch requestLine(bytes) {
        case .http1: return .http1
        case .needMoreData: return .needMoreData
        case .notHTTP, .http2: return couldBeHTTP2 ? .needMoreData : .notHTTP
        }
    }

    private static func requestLine(_ bytes: [UInt8]) -> Result {
        let limit = min(bytes.count, maximumRequestLine)
        var index = 0
        // Method: one or more token characters.
        while index < limit, isTokenCharacter(bytes[index]) { index += 1 }
        guard index > 0 else { return limit == 0 ? .needMoreData : .notHTTP }
        guard index < limit else { return bytes.count >= maximumRequestLine ? .notHTTP : .needMoreData }
        guard bytes[index] == UInt8(ascii: " ") else { return .notHTTP }
        index += 1
        // Target: visible characters up to the next space.
        let targetStart = index
        while index < limit, (0x21...0x7e).contains(bytes[index]) { index += 1 }
        guard index < limit else { return bytes.count >= maximumRequestLine ? .notHTTP : .needMoreData }
        guard index > targetStart, bytes[index] == UInt8(ascii: " ") else { return .notHTTP }
        index += 1
        let version = Array("HTTP/1.".utf8)
        let available = bytes[index..<limit]
        guard version.starts(with: available.prefix(version.count)) else { return .notHTTP }
        guard available.count > version.count else { return .needMoreData }
        return (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(available[available.startIndex + version.count])
            ? .http1 : .notHTTP
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
