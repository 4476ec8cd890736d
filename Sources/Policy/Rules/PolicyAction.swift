/// What a policy does with a connection (or, for L7 rules, a request).
public enum PolicyAction: String, Sendable, Hashable {
    case allow
    case deny
}
