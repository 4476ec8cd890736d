/// What intrusion detection has seen lately and what it blocks now, for `GET /ids` and `sidecar-status`.
public struct IntrusionSnapshot: Sendable, Codable, Equatable {
    /// A source whose new connections are reset at accept.
    public struct Block: Sendable, Codable, Equatable {
        public var source: String
        public var direction: String
        public var detector: String
        public var signature: String
        /// RFC 3339, UTC, milliseconds.
        public var since: String
        public var expiresInSeconds: Int

        public init(
            source: String, direction: String, detector: String, signature: String, since: String,
            expiresInSeconds: Int
        ) {
            self.source = source
            self.direction = direction
            self.detector = detector
            self.signature = signature
            self.since = since
            self.expiresInSeconds = expiresInSeconds
        }
    }

    /// The latest alerts, newest first, as their access log lines read.
    public var alerts: [AccessLogEntry]
    /// Both directions' blocks, the newest first.
    public var blocks: [Block]

    public init(alerts: [AccessLogEntry], blocks: [Block]) {
        self.alerts = alerts
        self.blocks = blocks
    }
}
