/// Runs a list of signatures over the parts of a request. One pass of a literal scanner over each part finds the
/// signatures whose required strings occur in it; only those run their pattern (signatures without such a string
/// always run). The result is the first match, in the order parts are given and then of the list.
public struct SignatureInspector: Sendable, Hashable {
    public let signatures: [Signature]
    private let scanner: LiteralScanner
    /// Signatures with no string every match contains: they run on every part they read.
    private let unfiltered: [Int]

    public init(_ signatures: [Signature]) {
        self.signatures = signatures
        var strings: [(bytes: [UInt8], owner: Int)] = []
        var unfiltered: [Int] = []
        for (index, signature) in signatures.enumerated() {
            guard let literals = signature.pattern.requiredLiterals else {
                unfiltered.append(index)
                continue
            }
            // Sorted, so that one list always builds the same scanner.
            strings += literals.sorted { $0.lexicographicallyPrecedes($1) }.map { ($0, index) }
        }
        scanner = LiteralScanner(strings)
        self.unfiltered = unfiltered
    }

    public static func == (lhs: SignatureInspector, rhs: SignatureInspector) -> Bool {
        lhs.signatures == rhs.signatures
    }

    public func hash(into hasher: inout Hasher) { hasher.combine(signatures) }

    /// The first signature reading `part` that matches `raw` (the part's bytes as sent).
    public func inspect(_ raw: some Sequence<UInt8>, as part: RequestPart) -> SignatureMatch? {
        firstMatch(in: InspectedText(raw), field: nil) { $0.contains(part) ? part : nil }
    }

    /// Every header field's value meets the `headers` signatures, and `User-Agent`'s the `userAgent` ones too.
    public func inspect(header name: String, value: String) -> SignatureMatch? {
        let field = name.lowercased()
        let isUserAgent = field == "user-agent"
        return firstMatch(in: InspectedText(value.utf8), field: field) { parts in
            parts.contains(.headers) ? .headers : isUserAgent && parts.contains(.userAgent) ? .userAgent : nil
        }
    }

    /// - Parameter reads: the part a signature reads this text as, nil when it does not read it.
    private func firstMatch(in text: InspectedText, field: String?, reads: (Set<RequestPart>) -> RequestPart?)
        -> SignatureMatch?
    {
        var candidates = [Bool](repeating: false, count: signatures.count)
        for index in unfiltered { candidates[index] = true }
        scanner.scan(text.folded, into: &candidates)
        for (index, signature) in signatures.enumerated() where candidates[index] {
            guard let part = reads(signature.parts), let range = signature.pattern.firstMatch(in: text.folded) else {
                continue
            }
            return SignatureMatch(signature: signature, part: part, field: field, evidence: text.evidence(range))
        }
        return nil
    }
}
