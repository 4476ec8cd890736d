/// The name rules Kubernetes applies, for values that become names or path segments (container names in
/// `/app-health/CONTAINER/…`, ConfigMap names).
public enum KubernetesName {
    /// RFC 1123 label: lower-case letters, digits and inner hyphens, at most 63 characters.
    public static func isLabel(_ name: some StringProtocol) -> Bool {
        let bytes = Array(name.utf8)
        guard (1...63).contains(bytes.count), let first = bytes.first, let last = bytes.last else { return false }
        func alphanumeric(_ byte: UInt8) -> Bool { (0x61...0x7A).contains(byte) || (0x30...0x39).contains(byte) }
        return alphanumeric(first) && alphanumeric(last) && bytes.allSatisfy { alphanumeric($0) || $0 == 0x2D }
    }

    /// RFC 1123 subdomain: labels joined by dots, at most 253 characters.
    public static func isSubdomain(_ name: String) -> Bool {
        (1...253).contains(name.utf8.count)
            && name.split(separator: ".", omittingEmptySubsequences: false).allSatisfy { isLabel($0) }
    }
}
