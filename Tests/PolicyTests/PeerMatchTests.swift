import Identity
import Interception
import Policy
import Testing

/// `from:` conditions, and callers without an identity failing closed in allow and deny rules alike.
@Suite struct PeerMatchTests {
    static let frontend = try! SPIFFEID(parsing: "spiffe://cluster.local/ns/shop/sa/frontend")
    static let other = try! SPIFFEID(parsing: "spiffe://partner.example/billing")

    /// The action of the rule `from` is in, when it alone decides: its name, or the default's.
    func decision(_ rule: String, default fallback: String = "deny", peer: SPIFFEID?) throws -> String {
        let configuration = try ConfigurationLoader.load(
            yaml: "policy: { inbound: { default: \(fallback), rules: [ \(rule) ] } }"
        ).get()
        let facts = ConnectionFacts(
            direction: .inbound, destinationAddress: [10, 244, 1, 5], destinationPort: 8080,
            sourceAddress: [10, 244, 2, 7], peer: peer)
        return PolicyEvaluator.decide(configuration.inboundPolicy, for: facts).ruleName
    }

    @Test func patternsMatchExactlyOrWithOneStarAtAnEnd() throws {
        let id = Self.frontend.description
        #expect(try IdentityPattern(parsing: id).matches(id))
        #expect(!(try IdentityPattern(parsing: id).matches(id + "x")))
        #expect(try IdentityPattern(parsing: "spiffe://cluster.local/ns/shop/*").matches(id))
        #expect(!(try IdentityPattern(parsing: "spiffe://cluster.local/ns/jobs/*").matches(id)))
        #expect(try IdentityPattern(parsing: "*/sa/frontend").matches(id))
        #expect(try IdentityPattern(parsing: "*").matches(Self.other.description))
        for bad in ["frontend", "spiffe://Cluster.local/x", "spiffe://*/ns/shop", "*/ns/*", "spiffe://*", "**"] {
            #expect(throws: IdentityPattern.ParseError.self, "\(bad)") { try IdentityPattern(parsing: bad) }
        }
    }

    @Test func conditionsCombine() throws {
        let shop = "{ action: allow, name: shop, from: { trustDomains: [cluster.local], namespaces: [shop] } }"
        #expect(try decision(shop, peer: Self.frontend) == "shop")
        #expect(try decision(shop, peer: Self.other) == "default")
        let notFrontend =
            "{ action: allow, name: r, from: { principals: ['spiffe://cluster.local/*'], notPrincipals: ['*/sa/frontend'] } }"
        #expect(try decision(notFrontend, peer: Self.frontend) == "default")
        let anyone = "{ action: allow, name: mesh, from: { authenticated: true } }"
        #expect(try decision(anyone, peer: Self.other) == "mesh")
        #expect(try decision(anyone, peer: nil) == "default")
    }

    /// ISTIO-SECURITY-2021-004: a deny by `notPrincipals` must also deny callers without an identity, and no allow by
    /// identity may let them in.
    @Test func callersWithoutAnIdentityFailClosed() throws {
        let denyAllButFrontend = "{ action: deny, name: only-frontend, from: { notPrincipals: ['*/sa/frontend'] } }"
        #expect(try decision(denyAllButFrontend, default: "allow", peer: nil) == "only-frontend")
        #expect(try decision(denyAllButFrontend, default: "allow", peer: Self.other) == "only-frontend")
        #expect(try decision(denyAllButFrontend, default: "allow", peer: Self.frontend) == "default")
        let allowAllButBatch = "{ action: allow, name: r, from: { notPrincipals: ['*/sa/batch'] } }"
        #expect(try decision(allowAllButBatch, peer: nil) == "default")
        let denyShop = "{ action: deny, name: no-shop, from: { namespaces: [shop] } }"
        #expect(try decision(denyShop, default: "allow", peer: nil) == "default")
        let denyPlaintext = "{ action: deny, name: no-plaintext, from: { authenticated: false } }"
        #expect(try decision(denyPlaintext, default: "allow", peer: nil) == "no-plaintext")
        #expect(try decision(denyPlaintext, default: "allow", peer: Self.frontend) == "default")
        let allowPlaintext = "{ action: allow, name: plaintext, from: { authenticated: false } }"
        #expect(try decision(allowPlaintext, peer: nil) == "plaintext")
        #expect(try decision(allowPlaintext, peer: Self.frontend) == "default")
    }
}
