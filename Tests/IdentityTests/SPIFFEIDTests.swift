import Identity
import Testing

/// SPIFFE IDs as the standard spells them, and nothing else.
@Suite struct SPIFFEIDTests {
    @Test func aKubernetesWorkloadIDHasItsNamespaceAndServiceAccount() throws {
        let id = try SPIFFEID(parsing: "spiffe://cluster.local/ns/shop/sa/frontend")
        #expect(id.trustDomain == "cluster.local")
        #expect(id.path == "/ns/shop/sa/frontend")
        #expect(id.namespace == "shop" && id.serviceAccount == "frontend")
        #expect(id.description == "spiffe://cluster.local/ns/shop/sa/frontend")
    }

    @Test func otherPathsHaveNoNamespace() throws {
        #expect(try SPIFFEID(parsing: "spiffe://example.org/ns/shop").namespace == nil)
        #expect(try SPIFFEID(parsing: "spiffe://example.org/ns/shop/sa/x/extra").namespace == nil)
        #expect(try SPIFFEID(parsing: "spiffe://example.org").path.isEmpty)
    }

    @Test(arguments: [
        ("https://example.org/a", SPIFFEIDError.notSPIFFE),
        ("SPIFFE://example.org/a", .notSPIFFE),
        ("spiffe:///a", .emptyTrustDomain),
        ("spiffe://Example.org/a", .badTrustDomain),
        ("spiffe://example.org:8080/a", .badTrustDomain),
        ("spiffe://user@example.org/a", .badTrustDomain),
        ("spiffe://example.org/a/", .emptyPathSegment),
        ("spiffe://example.org//a", .emptyPathSegment),
        ("spiffe://example.org/a/../b", .dotSegment),
        ("spiffe://example.org/./a", .dotSegment),
        ("spiffe://example.org/a?b", .badPath),
        ("spiffe://example.org/a#b", .badPath),
        ("spiffe://example.org/a%20b", .badPath),
    ])
    func refusedSpellings(text: String, error: SPIFFEIDError) {
        #expect(throws: error) { try SPIFFEID(parsing: text) }
    }

    @Test func lengthIsBounded() {
        let long = "spiffe://example.org/" + String(repeating: "a", count: 2048)
        #expect(throws: SPIFFEIDError.tooLong) { try SPIFFEID(parsing: long) }
        let domain = "spiffe://" + String(repeating: "a", count: 256) + "/x"
        #expect(throws: SPIFFEIDError.tooLong) { try SPIFFEID(parsing: domain) }
    }
}
