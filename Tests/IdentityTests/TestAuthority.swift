import Crypto
import Foundation
import Identity
import SwiftASN1
import X509

/// A certificate authority made in memory for a test, issuing workload certificates shaped as each test needs; no
/// key is ever written to disk.
struct TestAuthority {
    let key: P256.Signing.PrivateKey
    let certificate: Certificate
    static let now = Date(timeIntervalSince1970: 1_800_000_000)

    init(name: String = "test CA") throws {
        key = P256.Signing.PrivateKey()
        let subject = try DistinguishedName { CommonName(name) }
        certificate = try Certificate(
            version: .v3, serialNumber: .init(), publicKey: .init(key.publicKey),
            notValidBefore: Self.now - 86_400, notValidAfter: Self.now + 86_400 * 365, issuer: subject,
            subject: subject, signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.isCertificateAuthority(maxPathLength: nil))
                Critical(KeyUsage(keyCertSign: true, cRLSign: true))
            }, issuerPrivateKey: .init(key))
    }

    /// A leaf for `uris` (its URI SANs), signed by this authority.
    func issue(
        uris: [String], key: Certificate.PrivateKey = .init(P256.Signing.PrivateKey()), isCA: Bool = false,
        usage: KeyUsage = KeyUsage(digitalSignature: true), validFrom: Date = now - 3600,
        validUntil: Date = now + 3600
    ) throws -> Certificate {
        try Certificate(
            version: .v3, serialNumber: .init(), publicKey: key.publicKey, notValidBefore: validFrom,
            notValidAfter: validUntil, issuer: certificate.subject,
            subject: try DistinguishedName { CommonName("workload") }, signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(isCA ? .isCertificateAuthority(maxPathLength: nil) : BasicConstraints.notCertificateAuthority)
                Critical(usage)
                SubjectAlternativeNames(uris.map { .uniformResourceIdentifier($0) })
            }, issuerPrivateKey: .init(self.key))
    }

    /// The PEM files of a workload identity issued for `uri`.
    func material(uri: String = "spiffe://cluster.local/ns/shop/sa/frontend") throws -> (IdentityMaterial, Certificate)
    {
        let key = P256.Signing.PrivateKey()
        let leaf = try issue(uris: [uri], key: .init(key))
        return (
            IdentityMaterial(
                chain: try leaf.serializeAsPEM().pemString, key: key.pemRepresentation,
                bundle: try certificate.serializeAsPEM().pemString), leaf
        )
    }
}
