/// How an HTTP rule matches a header's value: written as a plain string, exactly; as `{ prefix: … }`, by its start
/// (`content-type: { prefix: application/grpc }` holds for `application/grpc+proto`). Case-sensitive, as values are.
public enum HeaderValueMatch: Sendable, Hashable {
    case exact(String)
    case prefix(String)

    public func matches(_ value: some StringProtocol) -> Bool {
        switch self {
        case .exact(let expected): value == expected
        case .prefix(let start): value.hasPrefix(start)
        }
    }
}
