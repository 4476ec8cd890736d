import Crypto
import Foundation
import Identity
import SwiftASN1
import Testing
import X509
import _CryptoExtras

/// A workload's identity files are taken only when the whole set is right, and each way of being wrong says so.
@Suite struct WorkloadIdentityTests {
    let now = TestAuthority.now

    @Test func aCompleteSetNamesItsWorkload() async throws {
        let authority = try TestAuthority()
        let (files, leaf) = try authority.material()
        let identity = try await WorkloadIdentity.check(files, at: now)
        #expect(identity.id.description == "spiffe://cluster.local/ns/shop/sa/frontend")
        #expect(identity.notValidAfter == leaf.notValidAfter)
        #expect(identity.bundle.roots == [authority.certificate])
    }

    @Test func aKeyOfAnotherCertificateIsRefused() async throws {
        let (files, _) = try TestAuthority().material()
        let other = IdentityMaterial(
            chain: files.chain, key: P256.Signing.PrivateKey().pemRepresentation, bundle: files.bundle)
        await #expect(throws: IdentityError.keyMismatch) { try await WorkloadIdentity.check(other, at: now) }
    }

    @Test func aCertificateFromAnotherAuthorityIsRefused() async throws {
        let (files, _) = try TestAuthority().material()
        let stranger = try TestAuthority(name: "another CA")
        let mixed = IdentityMaterial(
            chain: files.chain, key: files.key, bundle: try stranger.certificate.serializeAsPEM().pemString)
        await #expect {
            try await WorkloadIdentity.check(mixed, at: now)
        } throws: { error in
            guard case IdentityError.certificate(.untrusted) = error else { return false }
            return true
        }
    }

    @Test func anExpiredSetIsRefused() async throws {
        let (files, leaf) = try TestAuthority().material()
        await #expect(throws: IdentityError.certificate(.expired(leaf.notValidAfter))) {
            try await WorkloadIdentity.check(files, at: now + 7200)
        }
    }

    @Test func aBundleWithTwoRootsAcceptsEither() async throws {
        let old = try TestAuthority(name: "old CA")
        let new = try TestAuthority(name: "new CA")
        let bundle = try old.certificate.serializeAsPEM().pemString + "\n" + new.certificate.serializeAsPEM().pemString
        for authority in [old, new] {
            let (files, _) = try authority.material()
            let rotated = IdentityMaterial(chain: files.chain, key: files.key, bundle: bundle)
            #expect(try await WorkloadIdentity.check(rotated, at: now).bundle.roots.count == 2)
        }
    }

    @Test func weakOrUnlistedKeysAreRefused() async throws {
        let authority = try TestAuthority()
        let bundle = try authority.certificate.serializeAsPEM().pemString
        let weak = try _RSA.Signing.PrivateKey(unsafeKeySize: .init(bitCount: 1024))
        let weakSet = IdentityMaterial(chain: "", key: weak.pemRepresentation, bundle: bundle)
        await #expect {
            try await WorkloadIdentity.check(weakSet, at: now)
        } throws: { error in
            guard case IdentityError.unreadable(file: "private key", _) = error else { return false }
            return true
        }
        let edwards = Curve25519.Signing.PrivateKey()
        let leaf = try authority.issue(uris: ["spiffe://cluster.local/a"], key: .init(edwards))
        let edwardsSet = IdentityMaterial(
            chain: try leaf.serializeAsPEM().pemString,
            key: try Certificate.PrivateKey(edwards).serializeAsPEM().pemString, bundle: bundle)
        await #expect {
            try await WorkloadIdentity.check(edwardsSet, at: now)
        } throws: { error in
            guard case IdentityError.unsupportedKey = error else { return false }
            return true
        }
        let strong = try _RSA.Signing.PrivateKey(keySize: .bits2048)
        let rsaLeaf = try authority.issue(uris: ["spiffe://cluster.local/a"], key: .init(strong))
        let rsaSet = IdentityMaterial(
            chain: try rsaLeaf.serializeAsPEM().pemString, key: strong.pemRepresentation, bundle: bundle)
        #expect(try await WorkloadIdentity.check(rsaSet, at: now).id.path == "/a")
    }

    @Test func halfWrittenFilesAreRefused() async throws {
        let (files, _) = try TestAuthority().material()
        let truncated = IdentityMaterial(
            chain: String(files.chain.prefix(files.chain.count / 2)), key: files.key, bundle: files.bundle)
        await #expect {
            try await WorkloadIdentity.check(truncated, at: now)
        } throws: { error in
            guard case IdentityError.unreadable(file: "certificate chain", _) = error else { return false }
            return true
        }
        let empty = IdentityMaterial(chain: files.chain, key: files.key, bundle: "")
        await #expect(throws: IdentityError.unreadable(file: "trust bundle", "holds no certificate")) {
            try await WorkloadIdentity.check(empty, at: now)
        }
    }
}
