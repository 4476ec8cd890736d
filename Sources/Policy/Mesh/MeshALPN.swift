/// The ALPN protocol an originating sidecar offers: what it detected on the app's connection, so the terminating
/// sidecar knows the protocol inside the tunnel without reading the bytes again.
public enum MeshALPN: String, Sendable, Hashable, CaseIterable {
    case tcp = "sidecar.mesh/tcp"
    case http1 = "sidecar.mesh/http1"
    case h2 = "sidecar.mesh/h2"
    /// A shared connection carrying requests as HTTP/2 streams, from any of the app's connections to the destination.
    case streams = "sidecar.mesh/streams"

    /// What the originating side offers for a connection of the app's own, for what it detected: HTTP it can name,
    /// anything else as bytes (the app's own TLS, opaque bytes, a silent client). With `mtls.shareConnections`, an
    /// HTTP/1.1 request that stays in HTTP, and an HTTP/2 request proxied stream by stream, goes on a shared
    /// `streams` connection instead.
    public init(detected: DetectedProtocol?) {
        switch detected {
        case .http1?: self = .http1
        case .http2?: self = .h2
        case .meshStreams?: self = .streams
        default: self = .tcp
        }
    }

    /// What the terminating side takes the tunnel's bytes to be. `tcp` is a claim the policy does not rest on: the
    /// tunnel is relayed at once like a silent connection's, and the client's first bytes, when they come, meet the
    /// deny rules before the app sees them (so a server-first protocol never waits, and HTTP labelled `tcp` is still
    /// judged).
    public var inner: DetectedProtocol {
        switch self {
        case .tcp: .silent
        case .http1: .http1
        case .h2: .http2
        case .streams: .meshStreams
        }
    }

    /// Whether a ClientHello offering `alpn` is a sidecar's: any protocol of the mesh's.
    public static func isOffered(in alpn: [String]) -> Bool {
        alpn.contains { MeshALPN(rawValue: $0) != nil }
    }
}
