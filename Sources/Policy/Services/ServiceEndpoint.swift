import Interception

/// One endpoint of a service as configured: an address, or a DNS name that is resolved (and re-resolved) to the
/// addresses behind it.
public enum ServiceEndpoint: Sendable, Hashable, CustomStringConvertible {
    case address(IPNetwork, port: UInt16)
    case name(String, port: UInt16)

    /// Reads `IP:port`, `[IPv6]:port` or `name:port`.
    public static func parse(_ text: String) throws -> ServiceEndpoint {
        if let (address, port) = IPNetwork.endpoint(parsing: text) { return .address(address, port: port) }
        guard let colon = text.lastIndex(of: ":"), let port = UInt16(text[text.index(after: colon)...]), port > 0 else {
            throw NodeReader.Invalid("'\(text)' is not ADDRESS:PORT or NAME:PORT")
        }
        let name = String(text[..<colon])
        guard Self.isHostName(name) else { throw NodeReader.Invalid("'\(name)' is not an IP address or a DNS name") }
        return .name(name.lowercased(), port: port)
    }

    /// Letters, digits and hyphens in dot-separated labels of 1 to 63, 253 in all (RFC 1123); not all digits,
    /// which would be a mistyped address.
    static func isHostName(_ name: String) -> Bool {
        let labels = name.split(separator: ".", omittingEmptySubsequences: false)
        guard !name.isEmpty, name.utf8.count <= 253, !name.allSatisfy({ $0.isNumber || $0 == "." }) else {
            return false
        }
        return labels.allSatisfy { label in
            (1...63).contains(label.utf8.count) && label.first != "-" && label.last != "-"
                && label.unicodeScalars.allSatisfy {
                    $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || $0 == "-")
                }
        }
    }

    public var description: String {
        switch self {
        case .address(let address, let port):
            address.family == .ipv6 ? "[\(address.addressText)]:\(port)" : "\(address.addressText):\(port)"
        case .name(let name, let port): "\(name):\(port)"
        }
    }
}
