/// A SPIFFE ID, `spiffe://TRUST-DOMAIN/PATH`, as the SPIFFE ID standard defines it: a lower-case trust domain of
/// letters, digits, `.`, `-` and `_`; a path of non-empty segments of letters, digits, `.`, `-` and `_`, none of them
/// `.` or `..`, with no trailing slash; no port, user, query or fragment. Anything else is refused, never normalized:
/// two spellings of one workload would be two identities to policy.
public struct SPIFFEID: Hashable, Sendable, CustomStringConvertible {
    public let trustDomain: String
    /// Empty for the trust domain's own ID; else begins with `/`.
    public let path: String

    /// The longest SPIFFE ID the standard allows, in bytes.
    static let maximumLength = 2048
    static let maximumTrustDomainLength = 255

    public init(parsing text: String) throws(SPIFFEIDError) {
        guard text.utf8.count <= Self.maximumLength else { throw .tooLong }
        let scheme = "spiffe://"
        guard text.hasPrefix(scheme) else { throw .notSPIFFE }
        let rest = text.dropFirst(scheme.count)
        let trustDomain = rest.prefix { $0 != "/" }
        guard !trustDomain.isEmpty else { throw .emptyTrustDomain }
        guard trustDomain.utf8.count <= Self.maximumTrustDomainLength else { throw .tooLong }
        guard trustDomain.utf8.allSatisfy(Self.isTrustDomainByte) else { throw .badTrustDomain }
        let path = rest.dropFirst(trustDomain.count)
        if !path.isEmpty {
            let segments = path.dropFirst().split(separator: "/", omittingEmptySubsequences: false)
            for segment in segments {
                guard !segment.isEmpty else { throw .emptyPathSegment }
                guard segment != ".", segment != ".." else { throw .dotSegment }
                guard segment.utf8.allSatisfy(Self.isPathByte) else { throw .badPath }
            }
        }
        self.trustDomain = String(trustDomain)
        self.path = String(path)
    }

    public var description: String { "spiffe://\(trustDomain)\(path)" }

    /// The Kubernetes namespace of an ID in the `/ns/NAMESPACE/sa/SERVICE-ACCOUNT` form (as Istio, cert-manager's
    /// csi-driver-spiffe and SPIRE's Kubernetes registrar issue them); nil for any other path.
    public var namespace: String? { kubernetesSegments?.namespace }

    public var serviceAccount: String? { kubernetesSegments?.serviceAccount }

    private var kubernetesSegments: (namespace: String, serviceAccount: String)? {
        let segments = path.split(separator: "/", omittingEmptySubsequences: false)
        guard segments.count == 5, segments[1] == "ns", segments[3] == "sa" else { return nil }
        return (String(segments[2]), String(segments[4]))
    }

    private static func isTrustDomainByte(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
            || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "_")
    }

    private static func isPathByte(_ byte: UInt8) -> Bool {
        isTrustDomainByte(byte) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
    }
}
