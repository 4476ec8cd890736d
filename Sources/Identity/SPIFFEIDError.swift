/// Why a text is not a SPIFFE ID.
public enum SPIFFEIDError: Error, Equatable, CustomStringConvertible {
    case notSPIFFE
    case tooLong
    case emptyTrustDomain
    case badTrustDomain
    case emptyPathSegment
    case dotSegment
    case badPath

    public var description: String {
        switch self {
        case .notSPIFFE: "does not begin with spiffe://"
        case .tooLong: "is longer than a SPIFFE ID may be"
        case .emptyTrustDomain: "has no trust domain"
        case .badTrustDomain:
            "has a trust domain with other characters than lower-case letters, digits, '.', '-' and '_' (a port, a user or upper case are not allowed)"
        case .emptyPathSegment: "has an empty path segment or a trailing slash"
        case .dotSegment: "has a '.' or '..' path segment"
        case .badPath: "has a path with other characters than letters, digits, '.', '-' and '_'"
        }
    }
}
