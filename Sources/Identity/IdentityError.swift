import Foundation

/// Why a set of identity files is not a usable workload identity. At start and `check` it is an error that stops
/// the proxy; on a rotation it is a refusal, and the last good identity keeps serving.
public enum IdentityError: Error, Equatable, CustomStringConvertible {
    /// Which file, and what is wrong with it.
    case unreadable(file: String, String)
    case unsupportedKey(String)
    case keyMismatch
    case certificate(SVIDRejection)

    public var description: String {
        switch self {
        case .unreadable(let file, let detail): "the \(file) \(detail)"
        case .unsupportedKey(let key):
            "the private key is \(key); a workload key is ECDSA P-256, P-384 or P-521, or RSA of 2048 bits or more"
        case .keyMismatch: "the private key does not belong to the certificate"
        case .certificate(let rejection): "the certificate \(rejection)"
        }
    }
}
