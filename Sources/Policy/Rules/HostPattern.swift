/// A host name to match: exact (`api.internal`) or a wildcard over subdomains (`*.example.com`, which matches
/// `a.example.com` and `a.b.example.com` but not `example.com`). Case-insensitive, as DNS names are.
public struct HostPattern: Sendable, Hashable, CustomStringConvertible {
    /// Lowercased; for a wildcard, the suffix including its leading dot.
    private let text: String
    private let isWildcard: Bool

    /// Why a pattern was rejected.
    public struct ParseError: Error, CustomStringConvertible {
        public let text: String
        public var description: String {
            "'\(text)' is not a host name or a '*.' wildcard (letters, digits, '-' and '.', '*' only as '*.' at the start)"
        }
    }

    public init(parsing pattern: String) throws(ParseError) {
        let lowered = pattern.lowercased()
        let isWildcard = lowered.hasPrefix("*.")
        let name = isWildcard ? String(lowered.dropFirst(2)) : lowered
        let labels = name.split(separator: ".", omittingEmptySubsequences: false)
        let valid =
            !name.isEmpty && name.utf8.count <= 253
            && labels.allSatisfy { label in
                (1...63).contains(label.utf8.count) && label.first != "-" && label.last != "-"
                    && label.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }
            }
        guard valid else { throw ParseError(text: pattern) }
        self.isWildcard = isWildcard
        self.text = isWildcard ? "." + name : name
    }

    /// True when `host` (an SNI or a Host header, without port) matches. A trailing dot is ignored.
    public func matches(_ host: String) -> Bool {
        var host = host.lowercased()
        if host.hasSuffix(".") { host.removeLast() }
        return isWildcard ? host.hasSuffix(text) && host.count > text.count : host == text
    }

    public var description: String { isWildcard ? "*" + text : text }
}
