/// What a policy sees of one HTTP request (HTTP/1.1 or an HTTP/2 stream), read in place from the proxy's own header
/// storage so that matching copies nothing.
public protocol HTTPRequestFacts {
    /// The method, as sent (methods are case-sensitive).
    var method: String { get }
    /// The host the request is for (target authority, `:authority` or `Host`), without port; nil when it names none.
    var host: Substring? { get }
    /// The target parsed for matching.
    var target: RequestTarget { get }
    /// True when one of the request's fields named `name` (lower case; names compare without regard to case) has a
    /// value that `value` matches (`ignoringCase` for deny rules).
    func hasHeader(_ name: String, matching value: HeaderValueMatch, ignoringCase: Bool) -> Bool
    /// The first value of header `name` (lower case), if the request carries it.
    func header(_ name: String) -> String?
    /// The first non-nil result of `body` over the request's header fields in order (HTTP/2's pseudo-headers
    /// excluded), with each field's name lower-cased.
    func firstHeaderField<Result>(_ body: (_ name: String, _ value: String) -> Result?) -> Result?
}
