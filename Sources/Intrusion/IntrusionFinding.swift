/// What a detector found: which detector, under which signature (a built-in or custom signature's id, or the
/// detector's own: `scan-ports`, `scan-addresses`, `denial-burst`), how bad, what it saw, and what was done.
public struct IntrusionFinding: Sendable, Hashable {
    public enum Detector: String, Sendable, Hashable {
        case scan, denials, signatures
    }

    public enum Response: Sendable, Hashable {
        /// Alerted only (`detect` mode, or `action: alert`).
        case alerted
        /// The request was answered 403, or the connection reset.
        case refused
        /// The source is blocked for this long (the request or connection that tipped it over refused too).
        case blocked(Duration)

        public var name: String {
            switch self {
            case .alerted: "alert"
            case .refused: "refuse"
            case .blocked: "block"
            }
        }
    }

    public let detector: Detector
    public let signature: String
    public let name: String
    public let severity: Severity
    /// What was matched or counted, short and escaped.
    public let evidence: String
    /// For a signature, where in the request it matched (`target`, `header user-agent`).
    public var location: String?
    public var response: Response

    public init(
        detector: Detector, signature: String, name: String, severity: Severity, evidence: String,
        location: String? = nil, response: Response = .alerted
    ) {
        self.detector = detector
        self.signature = signature
        self.name = name
        self.severity = severity
        self.evidence = evidence
        self.location = location
        self.response = response
    }
}
