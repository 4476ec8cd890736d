/// The HTTP side of a rule: every field given must hold for a request to match.
public struct HTTPRuleMatch: Sendable, Hashable {
    /// The request's host (`Host` header or `:authority`, without the port).
    public var host: HostPattern?
    /// Upper-case methods; empty matches any.
    public var methods: [String] = []
    /// A prefix of the request path (before any query).
    public var pathPrefix: String?
    /// Headers that must be present with a value that matches; names are lowercased (header names are
    /// case-insensitive).
    public var headers: [String: HeaderValueMatch] = [:]

    public init() {}
}
