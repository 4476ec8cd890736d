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

    /// The name itself, when the pattern is no wildcard: one a lookup can resolve.
    public var exactName: String? { isWildcard ? nil : text }

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

    /// True when `host` (an SNI or a Host header, without port) matches. A trailing dot is ignored. Compares bytes in
    /// place, without allocating: it runs for every HTTP request.
    public func matches(_ host: Substring) -> Bool {
        var name = host.utf8[...]
        if name.last == UInt8(ascii: ".") { name = name.dropLast() }
        let pattern = text.utf8
        if isWildcard {
            guard name.count > pattern.count else { return false }
            return ASCII.equals(name.suffix(pattern.count), lowercase: pattern)
        }
        return name.count == pattern.count && ASCII.equals(name, lowercase: pattern)
    }

    public func matches(_ host: String) -> Bool {
        matches(host[...])
    }

    public var description: String { isWildcard ? "*" + text : text }
}
