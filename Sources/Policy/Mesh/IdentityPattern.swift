import Identity

/// A SPIFFE ID to match, exactly or with one `*` at its start or end (`spiffe://cluster.local/ns/shop/*`,
/// `*/sa/frontend`, or `*` for every identity), as Istio writes principals. Case-sensitive, as SPIFFE IDs are.
public struct IdentityPattern: Sendable, Hashable, CustomStringConvertible {
    private enum Form: Hashable {
        case exact(String)
        case prefix(String)
        case suffix(String)
        case any
    }

    private let form: Form

    public struct ParseError: Error, CustomStringConvertible {
        public let text: String
        public var description: String {
            "'\(text)' is not a SPIFFE ID (spiffe://TRUST-DOMAIN/PATH) with at most one '*', at its start or end"
        }
    }

    public init(parsing text: String) throws(ParseError) {
        let stars = text.filter { $0 == "*" }.count
        if text == "*" {
            form = .any
        } else if stars == 0, (try? SPIFFEID(parsing: text)) != nil {
            form = .exact(text)
        } else if stars == 1, text.hasSuffix("*"), text.hasPrefix("spiffe://"), text.count > "spiffe://".count + 1 {
            form = .prefix(String(text.dropLast()))
        } else if stars == 1, text.hasPrefix("*"), text.count > 1 {
            form = .suffix(String(text.dropFirst()))
        } else {
            throw ParseError(text: text)
        }
    }

    public func matches(_ id: String) -> Bool {
        switch form {
        case .exact(let text): id == text
        case .prefix(let text): id.hasPrefix(text)
        case .suffix(let text): id.hasSuffix(text)
        case .any: true
        }
    }

    public var description: String {
        switch form {
        case .exact(let text): text
        case .prefix(let text): text + "*"
        case .suffix(let text): "*" + text
        case .any: "*"
        }
    }
}
