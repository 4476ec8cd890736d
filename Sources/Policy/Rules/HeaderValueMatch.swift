/// How an HTTP rule matches a header's value: written as a plain string, exactly; as `{ prefix: … }`, by its start
/// (`content-type: { prefix: application/grpc }` holds for `application/grpc+proto`).
public enum HeaderValueMatch: Sendable, Hashable {
    case exact(String)
    case prefix(String)

    /// - Parameter ignoringCase: for deny rules, which fail closed: many values (media types, tokens) mean the same
    ///   in any case, and a client must not slip past a deny by writing `Application/GRPC`. Allow rules compare as
    ///   written.
    public func matches(_ value: some StringProtocol, ignoringCase: Bool) -> Bool {
        switch (self, ignoringCase) {
        case (.exact(let expected), false): value == expected
        case (.prefix(let start), false): value.hasPrefix(start)
        case (.exact(let expected), true): value.lowercased() == expected.lowercased()
        case (.prefix(let start), true): value.lowercased().hasPrefix(start.lowercased())
        }
    }
}
