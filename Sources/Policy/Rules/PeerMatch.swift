import Identity

/// A rule's `from:` conditions on the caller's identity (the SPIFFE ID its mesh certificate names); every one given
/// must hold.
///
/// Fail closed for callers without an identity (plaintext, or the app's own TLS passed through): no identity
/// condition matches them in an allow rule, and in a deny rule the negated ones (`notPrincipals`,
/// `authenticated: false`) match them while the others do not. So `deny notPrincipals: [X]` denies plaintext too,
/// and no allow by identity ever lets plaintext in (Istio's ISTIO-SECURITY-2021-004 pitfall cannot be written here).
public struct PeerMatch: Sendable, Hashable {
    public var principals: [IdentityPattern] = []
    public var notPrincipals: [IdentityPattern] = []
    public var trustDomains: [String] = []
    /// Read from the `spiffe://TD/ns/NAMESPACE/sa/ACCOUNT` form; an identity of another form is in none.
    public var namespaces: [String] = []
    /// True: any caller with an identity; false: only callers without one.
    public var authenticated: Bool?

    public init() {}

    /// Whether the caller `peer` (nil: no identity) meets every condition, for a rule of `action`.
    func matches(_ peer: SPIFFEID?, action: PolicyAction) -> Bool {
        guard let peer else {
            // In an allow rule only `authenticated: false`, alone, is about callers without an identity.
            guard action == .deny else { return authenticated == false && notPrincipals.isEmpty && hasOnlyNegations }
            return hasOnlyNegations
        }
        let id = peer.description
        if !principals.isEmpty && !principals.contains(where: { $0.matches(id) }) { return false }
        if notPrincipals.contains(where: { $0.matches(id) }) { return false }
        if !trustDomains.isEmpty && !trustDomains.contains(peer.trustDomain) { return false }
        if !namespaces.isEmpty && !namespaces.contains(where: { $0 == peer.namespace }) { return false }
        if let authenticated, !authenticated { return false }
        return true
    }

    /// No condition asks for something an identity-less caller lacks: only `notPrincipals` and
    /// `authenticated: false` are given.
    private var hasOnlyNegations: Bool {
        principals.isEmpty && trustDomains.isEmpty && namespaces.isEmpty && authenticated != true
    }
}
