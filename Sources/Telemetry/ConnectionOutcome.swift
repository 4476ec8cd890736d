/// How a connection through the proxy ended, as metrics and access logs name it.
public enum ConnectionOutcome: String, Sendable, Codable {
    /// Relayed (or proxied request by request) to its original destination.
    case forwarded
    /// Reset by policy.
    case denied
    /// The upstream refused or could not be reached.
    case refused
    /// The upstream did not answer within the connect timeout.
    case timeout
    /// Aimed at the proxy itself.
    case loop
    /// Refused at once: its destination's connection limit was reached.
    case limited
    /// Its original destination could not be read, the proxy failed to set it up, or the client left before it was
    /// decided.
    case error
}
