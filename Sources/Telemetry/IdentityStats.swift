/// The workload identity in force and what mutual TLS does with it, as `/stats` answers and `sidecar-status` shows.
public struct IdentityStats: Sendable, Codable, Equatable {
    public var id: String
    /// ISO 8601, UTC.
    public var validUntil: String
    /// Negative once expired.
    public var secondsLeft: Int
    /// Each root of the trust bundle: its subject and when it expires (ISO 8601).
    public var trustRoots: [TrustRoot]
    /// `mtls.mode`, and the ports that differ from it.
    public var mode: String
    public var portModes: [String: String]
    /// Why the identity files were last refused, while the identity above serves on; nil once a set was taken.
    public var lastRefusal: String?

    public struct TrustRoot: Sendable, Codable, Equatable {
        public var subject: String
        public var validUntil: String

        public init(subject: String, validUntil: String) {
            self.subject = subject
            self.validUntil = validUntil
        }
    }

    public init(
        id: String, validUntil: String, secondsLeft: Int, trustRoots: [TrustRoot], mode: String,
        portModes: [String: String], lastRefusal: String?
    ) {
        self.id = id
        self.validUntil = validUntil
        self.secondsLeft = secondsLeft
        self.trustRoots = trustRoots
        self.mode = mode
        self.portModes = portModes
        self.lastRefusal = lastRefusal
    }
}
