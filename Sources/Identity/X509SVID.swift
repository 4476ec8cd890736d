import Foundation
import X509

/// The X.509-SVID rules a leaf certificate must meet to name a workload, ours and every peer's alike: exactly one
/// URI SAN, a SPIFFE ID with a path; not a CA; signing keys only (`digitalSignature`, never `keyCertSign` or
/// `cRLSign`); inside its validity. That its chain leads to the bundle is checked apart (`TrustBundle`).
public enum X509SVID {
    /// - Returns: the SPIFFE ID the leaf names.
    public static func check(_ leaf: Certificate, at time: Date) throws(SVIDRejection) -> SPIFFEID {
        let names: SubjectAlternativeNames?
        do {
            names = try leaf.extensions.subjectAlternativeNames
        } catch {
            throw .malformed("its subject alternative names do not parse: \(error)")
        }
        let uris = (names ?? SubjectAlternativeNames()).compactMap { name -> String? in
            if case .uniformResourceIdentifier(let uri) = name { return uri }
            return nil
        }
        guard uris.count == 1, let uri = uris.first else {
            throw uris.isEmpty ? .noURIName : .severalURINames(uris)
        }
        let id: SPIFFEID
        do {
            id = try SPIFFEID(parsing: uri)
        } catch {
            throw .notSPIFFE(uri, error)
        }
        guard !id.path.isEmpty else { throw .trustDomainOnly(uri) }
        do {
            if let constraints = try leaf.extensions.basicConstraints, case .isCertificateAuthority = constraints {
                throw SVIDRejection.certificateAuthority
            }
            if let usage = try leaf.extensions.keyUsage {
                guard usage.digitalSignature else { throw SVIDRejection.keyUsage("digitalSignature is not set") }
                guard !usage.keyCertSign, !usage.cRLSign else {
                    throw SVIDRejection.keyUsage("it may sign certificates or revocation lists")
                }
            }
        } catch let rejection as SVIDRejection {
            throw rejection
        } catch {
            throw .malformed("its extensions do not parse: \(error)")
        }
        guard leaf.notValidBefore <= time else { throw .notYetValid(leaf.notValidBefore) }
        guard time <= leaf.notValidAfter else { throw .expired(leaf.notValidAfter) }
        return id
    }
}
