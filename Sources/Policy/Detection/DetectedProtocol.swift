/// What the first bytes of a connection show it to be: the one value protocol detection hands on.
public enum DetectedProtocol: Sendable, Hashable, CustomStringConvertible {
    /// A TLS ClientHello, with the server name and ALPN protocols it offers. A ClientHello cut off by the detect
    /// timeout, malformed or too large is TLS with no server name: SNI rules fail closed on it.
    case tls(serverName: String?, alpn: [String])
    /// An HTTP/1.x request line (as leniently as any server would read one).
    case http1
    /// The HTTP/2 prior-knowledge connection preface.
    case http2
    /// A sidecar's shared HTTP/2 connection (mesh ALPN `sidecar.mesh/streams`): each stream one request, from any of
    /// its app's connections, marked with the protocol the app spoke.
    case meshStreams
    /// Bytes that no HTTP server would take for a request and that are not TLS: relayed as bytes.
    case opaque
    /// Nothing within the detect timeout: a server-speaks-first protocol, or a client waiting the timeout out. Its
    /// first bytes, when they come, meet the deny rules before the upstream sees them.
    case silent
    /// Bytes that could still be the start of an HTTP request when the detect timeout ran out: what the proxy cannot
    /// tell meets the deny rules, never an allow rule.
    case undecided

    /// As logs write it: `tls sni=api.example.com alpn=h2,http/1.1`, `tls sni=unknown`, `http1`, `http2`, `opaque`,
    /// `silent`, `undecided`.
    public var description: String {
        switch self {
        case .tls(let serverName, let alpn):
            "tls sni=\(serverName ?? "unknown")" + (alpn.isEmpty ? "" : " alpn=\(alpn.joined(separator: ","))")
        case .http1: "http1"
        case .http2: "http2"
        case .meshStreams: "mesh-streams"
        case .opaque: "opaque"
        case .silent: "silent"
        case .undecided: "undecided"
        }
    }

    /// HTTP the proxy can read request by request.
    public var isHTTP: Bool { self == .http1 || self == .http2 || self == .meshStreams }

    /// Framed as HTTP/2: proxied stream by stream.
    public var isHTTP2: Bool { self == .http2 || self == .meshStreams }
}
