import Crypto
import Foundation
import Identity
import Testing
import X509

/// The X.509-SVID rules, one certificate shape at a time.
@Suite struct X509SVIDTests {
    let now = TestAuthority.now

    @Test func aWorkloadCertificateNamesItsID() throws {
        let leaf = try TestAuthority().issue(uris: ["spiffe://cluster.local/ns/shop/sa/frontend"])
        #expect(try X509SVID.check(leaf, at: now).serviceAccount == "frontend")
    }

    @Test func exactlyOneURIName() throws {
        let authority = try TestAuthority()
        #expect(throws: SVIDRejection.noURIName) { try X509SVID.check(try authority.issue(uris: []), at: now) }
        let two = ["spiffe://cluster.local/a", "spiffe://cluster.local/b"]
        #expect(throws: SVIDRejection.severalURINames(two)) {
            try X509SVID.check(try authority.issue(uris: two), at: now)
        }
    }

    @Test func theNameIsAWorkloadsSPIFFEID() throws {
        let authority = try TestAuthority()
        #expect(throws: SVIDRejection.notSPIFFE("https://cluster.local/a", .notSPIFFE)) {
            try X509SVID.check(try authority.issue(uris: ["https://cluster.local/a"]), at: now)
        }
        #expect(throws: SVIDRejection.trustDomainOnly("spiffe://cluster.local")) {
            try X509SVID.check(try authority.issue(uris: ["spiffe://cluster.local"]), at: now)
        }
    }

    @Test func aCACertificateIsNoWorkloads() throws {
        let leaf = try TestAuthority().issue(uris: ["spiffe://cluster.local/a"], isCA: true)
        #expect(throws: SVIDRejection.certificateAuthority) { try X509SVID.check(leaf, at: now) }
    }

    @Test func onlySigningKeyUsage() throws {
        let authority = try TestAuthority()
        let signsCertificates = try authority.issue(
            uris: ["spiffe://cluster.local/a"], usage: KeyUsage(digitalSignature: true, keyCertSign: true))
        #expect(throws: SVIDRejection.keyUsage("it may sign certificates or revocation lists")) {
            try X509SVID.check(signsCertificates, at: now)
        }
        let noSignature = try authority.issue(
            uris: ["spiffe://cluster.local/a"], usage: KeyUsage(keyEncipherment: true))
        #expect(throws: SVIDRejection.keyUsage("digitalSignature is not set")) {
            try X509SVID.check(noSignature, at: now)
        }
    }

    @Test func insideItsValidity() throws {
        let authority = try TestAuthority()
        let later = try authority.issue(uris: ["spiffe://cluster.local/a"], validFrom: now + 60, validUntil: now + 3600)
        #expect(throws: SVIDRejection.notYetValid(now + 60)) { try X509SVID.check(later, at: now) }
        let earlier = try authority.issue(
            uris: ["spiffe://cluster.local/a"], validFrom: now - 3600, validUntil: now - 1)
        #expect(throws: SVIDRejection.expired(now - 1)) { try X509SVID.check(earlier, at: now) }
    }
}
