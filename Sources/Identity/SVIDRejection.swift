import Foundation

/// Why a certificate does not name a workload (the X.509-SVID rules), or does not lead to the trust bundle. Each
/// reads as the end of "the certificate …" in a log line, an error at start, or a handshake failure's reason.
public enum SVIDRejection: Error, Equatable, CustomStringConvertible {
    case malformed(String)
    case noURIName
    case severalURINames([String])
    case notSPIFFE(String, SPIFFEIDError)
    case trustDomainOnly(String)
    case certificateAuthority
    case keyUsage(String)
    case notYetValid(Date)
    case expired(Date)
    case untrusted(String)

    public var description: String {
        switch self {
        case .malformed(let detail): "is malformed: \(detail)"
        case .noURIName: "has no URI subject alternative name (an X.509-SVID has exactly one, its SPIFFE ID)"
        case .severalURINames(let uris):
            "has \(uris.count) URI subject alternative names (\(uris.joined(separator: ", "))); an X.509-SVID has exactly one"
        case .notSPIFFE(let uri, let error): "names \(uri), which \(error)"
        case .trustDomainOnly(let uri): "names the trust domain itself (\(uri)), not a workload"
        case .certificateAuthority: "is a CA certificate, which cannot be a workload's"
        case .keyUsage(let detail): "has a key usage no workload certificate may have: \(detail)"
        case .notYetValid(let date): "is not valid before \(date.formatted(.iso8601))"
        case .expired(let date): "expired at \(date.formatted(.iso8601))"
        case .untrusted(let detail): "does not lead to the trust bundle: \(detail)"
        }
    }
}
