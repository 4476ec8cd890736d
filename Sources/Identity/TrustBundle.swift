import Foundation
@_spi(FixedExpiryValidationTime) import X509

/// The roots a workload trusts for its peers, and only these: never the system store. It may hold several, so a CA
/// rotation can overlap (certificates from the old and the new root are both accepted meanwhile).
public struct TrustBundle: Sendable {
    public let roots: [Certificate]

    public init(roots: [Certificate]) {
        self.roots = roots
    }

    /// Verifies that the leaf leads to one of the roots through the intermediates, by RFC 5280 (signatures, validity,
    /// CA constraints, name constraints, critical extensions) at `time`.
    /// - Returns: the chain, leaf first, root last.
    public func verify(_ leaf: Certificate, intermediates: [Certificate], at time: Date) async throws(SVIDRejection)
        -> [Certificate]
    {
        var verifier = Verifier(rootCertificates: CertificateStore(roots)) {
            RFC5280Policy(fixedExpiryValidationTime: time)
        }
        switch await verifier.validate(leaf: leaf, intermediates: CertificateStore(intermediates)) {
        case .validCertificate(let chain):
            return Array(chain)
        case .couldNotValidate(let failures):
            let reasons = failures.map { "\($0.policyFailureReason)" }
            throw .untrusted(reasons.isEmpty ? "no path to any of its roots" : reasons.joined(separator: "; "))
        }
    }
}
