/// One line of the access log, as JSON: one per connection when it closes, and one per HTTP request when its
/// response ends. Fields the proxy did not learn are left out.
public struct AccessLogEntry: Sendable, Codable, Equatable {
    public enum Kind: String, Sendable, Codable {
        case connection
        case request
        /// A query to the DNS proxy: `host` is the name asked, `queryType` the record type, `status` the response
        /// code.
        case dns
    }

    public var kind: Kind
    /// RFC 3339, UTC, milliseconds.
    public var start: AccessLogTime
    public var durationMs: Double
    public var direction: String
    public var source: String
    /// The original destination, as the app dialled it.
    public var destination: String?
    /// The address the proxy connected to for it.
    public var upstream: String?
    /// `tls`, `http1`, `http2` or `opaque` when detected.
    public var `protocol`: String?
    public var sni: String?
    /// How the connection was secured between the pods: `mtls` (a sidecar's tunnel, terminated or originated here),
    /// `passthrough` (the app's own TLS) or `plaintext`.
    public var tls: String?
    /// Under mutual TLS, the SPIFFE ID the peer's certificate names (the caller inbound, the server outbound).
    public var peerIdentity: String?
    public var method: String?
    public var host: String?
    public var path: String?
    public var queryType: String?
    public var status: Int?
    /// Bytes from the client (towards the upstream) and to the client.
    public var bytesReceived: Int?
    public var bytesSent: Int?
    /// `allow` or `deny`, and the rule that decided (`default` when none did).
    public var decision: String?
    public var rule: String?
    /// The limit (`limits:`) that refused a request.
    public var limit: String?
    public var outcome: String?
    /// HTTP requests: the W3C trace, the proxy's span in it, and the client's span when it sent one.
    public var traceId: String?
    public var spanId: String?
    public var parentSpanId: String?

    public init(kind: Kind, start: AccessLogTime, durationMs: Double, direction: String, source: String) {
        self.kind = kind
        self.start = start
        self.durationMs = durationMs
        self.direction = direction
        self.source = source
    }
}
