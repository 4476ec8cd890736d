import Crypto
import Foundation
import SwiftASN1
import X509
import _CryptoExtras

/// This workload's own X.509-SVID, checked whole: the key is one we accept and belongs to the certificate, the
/// certificate meets the X.509-SVID rules, and its chain leads to the bundle. Only a set that passes all of these is
/// ever served, so a half-written rotation can never be taken.
public struct WorkloadIdentity: Sendable {
    public let id: SPIFFEID
    /// Leaf first, then the intermediates the files hold.
    public let chain: [Certificate]
    public let privateKey: Certificate.PrivateKey
    public let bundle: TrustBundle
    public let material: IdentityMaterial

    public var notValidAfter: Date { chain[0].notValidAfter }

    /// Reads and checks the material at `time`.
    public static func check(_ material: IdentityMaterial, at time: Date) async throws(IdentityError)
        -> WorkloadIdentity
    {
        // The key first: a key too weak to parse (RSA under 2048 bits) is then reported as what it is.
        let key: Certificate.PrivateKey
        do {
            key = try Certificate.PrivateKey(pemEncoded: material.key)
        } catch {
            throw .unreadable(file: "private key", "is not a PEM private key of an accepted kind: \(error)")
        }
        try checkKind(of: key.publicKey)
        let chain = try certificates(in: material.chain, file: "certificate chain")
        let roots = try certificates(in: material.bundle, file: "trust bundle")
        let leaf = chain[0]
        guard key.publicKey == leaf.publicKey else { throw .keyMismatch }
        let bundle = TrustBundle(roots: roots)
        do {
            let id = try X509SVID.check(leaf, at: time)
            _ = try await bundle.verify(leaf, intermediates: Array(chain.dropFirst()), at: time)
            return WorkloadIdentity(id: id, chain: chain, privateKey: key, bundle: bundle, material: material)
        } catch {
            throw .certificate(error)
        }
    }

    private static func certificates(in pem: String, file: String) throws(IdentityError) -> [Certificate] {
        let certificates: [Certificate]
        do {
            certificates = try PEMDocument.parseMultiple(pemString: pem).map { try Certificate(pemDocument: $0) }
        } catch {
            throw .unreadable(file: file, "is not PEM certificates: \(error)")
        }
        guard !certificates.isEmpty else { throw .unreadable(file: file, "holds no certificate") }
        return certificates
    }

    /// ECDSA on the NIST curves, or RSA, whose size the parser already holds to 2048 bits or more.
    private static func checkKind(of key: Certificate.PublicKey) throws(IdentityError) {
        guard
            P256.Signing.PublicKey(key) != nil || P384.Signing.PublicKey(key) != nil
                || P521.Signing.PublicKey(key) != nil || _RSA.Signing.PublicKey(key) != nil
        else { throw .unsupportedKey("\(key)") }
    }
}
