/// One line of the access log, as JSON: one per connection when it closes, one per HTTP request when its response
/// ends, and one per intrusion alert. Fields the proxy did not learn are left out.
public struct AccessLogEntry: Sendable, Codable, Equatable {
    public enum Kind: String, Sendable, Codable {
        case connection
        case request
        /// A query to the DNS proxy: `host` is the name asked, `queryType` the record type, `status` the response
        /// code.
        case dns
        /// Intrusion detection found something: `detector`, `signature`, `severity`, `evidence`, `location` and
        /// `action` say what and what was done; `source` is the suspect.
        case alert
    }

    public var kind: Kind
    /// RFC 3339, UTC, milliseconds.
    public var start: AccessLogTime
    public var durationMs: Double
    public var direction: String
    public var source: String
    /// The original destination, as the app dialled it.
    public var destination: String?
    /// The address the proxy connected to for it (for a request, the endpoint that answered it).
    public var upstream: String?
    /// Requests: the upstream connection that carried it, by its local address; requests carried by one pooled or
    /// shared connection name the same one.
    public var upstreamConnection: String?
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
    /// Alerts: `scan`, `denials` or `signatures`; the signature's id (or the detector's own: `scan-ports`, …).
    public var detector: String?
    public var signature: String?
    /// `low`, `medium`, `high` or `critical`.
    public var severity: String?
    /// What matched or was counted, decoded, escaped and cut to 128 bytes.
    public var evidence: String?
    /// Where in the request a signature matched: `target`, `body` or `header NAME`.
    public var location: String?
    /// `alert` (detect mode, or `action: alert`), `refuse` (403 or reset) or `block`.
    public var action: String?
    /// With `action: block`, for how long the source is blocked.
    public var blockSeconds: Int?

    public init(kind: Kind, start: AccessLogTime, durationMs: Double, direction: String, source: String) {
        self.kind = kind
        self.start = start
        self.durationMs = durationMs
        self.direction = direction
        self.source = source
    }
}
