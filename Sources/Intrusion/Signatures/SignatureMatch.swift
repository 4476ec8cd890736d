/// A signature that matched a request: which, where, and what it matched.
public struct SignatureMatch: Sendable, Hashable {
    public let signature: Signature
    public let part: RequestPart
    /// The header field's name, for `headers` and `userAgent`.
    public let field: String?
    /// The matched bytes, decoded, cut short and escaped (see `InspectedText.evidence`).
    public let evidence: String

    /// `target`, `body`, or `header user-agent`: where an alert says the match was.
    public var location: String { field.map { "header \($0)" } ?? part.rawValue }
}
