/// What the first bytes of a connection show it to be.
public enum DetectedProtocol: Sendable, Hashable {
    /// A TLS ClientHello, with the server name and ALPN protocols it offers.
    case tls(serverName: String?, alpn: [String])
    /// An HTTP/1.x request line.
    case http1
    /// The HTTP/2 prior-knowledge connection preface.
    case http2
    /// Anything else, or nothing within the detect timeout: relayed as bytes.
    case opaque
}
