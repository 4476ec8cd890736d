/// What the first bytes of a connection show it to be.
public enum DetectedProtocol: Sendable, Hashable, CustomStringConvertible {
    /// A TLS ClientHello, with the server name and ALPN protocols it offers.
    case tls(serverName: String?, alpn: [String])
    /// An HTTP/1.x request line.
    case http1
    /// The HTTP/2 prior-knowledge connection preface.
    case http2
    /// Anything else, or nothing within the detect timeout: relayed as bytes.
    case opaque

    /// As logs write it: `tls sni=api.example.com alpn=h2,http/1.1`, `tls sni=unknown`, `http1`, `http2`, `opaque`.
    public var description: String {
        switch self {
        case .tls(let serverName, let alpn):
            "tls sni=\(serverName ?? "unknown")" + (alpn.isEmpty ? "" : " alpn=\(alpn.joined(separator: ","))")
        case .http1: "http1"
        case .http2: "http2"
        case .opaque: "opaque"
        }
    }
}
