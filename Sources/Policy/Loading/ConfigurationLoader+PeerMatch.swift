import Identity
import Yams

extension ConfigurationLoader {
    /// A rule's `from:`: principals, notPrincipals, trustDomains, namespaces, authenticated.
    static func readPeerMatch(_ node: Node, at path: String, _ reader: inout NodeReader) -> PeerMatch? {
        let keys = ["principals", "notPrincipals", "trustDomains", "namespaces", "authenticated"]
        guard let fields = reader.mapping(node, at: path, keys: keys) else { return nil }
        guard !fields.isEmpty else {
            reader.problem(path, "an empty from: would match every caller; leave it out")
            return nil
        }
        var match = PeerMatch()
        match.principals = reader.values(fields["principals"], at: "\(path).principals") {
            try IdentityPattern(parsing: $0)
        }
        match.notPrincipals = reader.values(fields["notPrincipals"], at: "\(path).notPrincipals") {
            try IdentityPattern(parsing: $0)
        }
        match.trustDomains = reader.values(fields["trustDomains"], at: "\(path).trustDomains") { text in
            guard let id = try? SPIFFEID(parsing: "spiffe://\(text)"), id.trustDomain == text else {
                throw NodeReader.Invalid("'\(text)' is not a trust domain (lower-case letters, digits, '.', '-', '_')")
            }
            return text
        }
        match.namespaces = reader.values(fields["namespaces"], at: "\(path).namespaces") { text in
            guard !text.isEmpty, !text.contains("/") else { throw NodeReader.Invalid("'\(text)' is not a namespace") }
            return text
        }
        if let node = fields["authenticated"] {
            match.authenticated = reader.boolean(node, at: "\(path).authenticated")
        }
        if match.authenticated == false
            && !(match.principals.isEmpty && match.trustDomains.isEmpty && match.namespaces.isEmpty)
        {
            reader.problem(
                path,
                "authenticated: false matches only callers without an identity; no identity condition can hold with it")
        }
        return match
    }
}
