/// What a connection's policy says once its first bytes are known: a decision for the whole connection, or HTTP
/// proxied request by request because an HTTP rule could decide it.
public enum ConnectionVerdict: Sendable, Hashable {
    case decided(PolicyDecision)
    case perRequest
}
