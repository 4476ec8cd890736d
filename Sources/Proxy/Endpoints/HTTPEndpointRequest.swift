import Foundation

/// What an endpoint sees of its request: the query parameters (`/logging?level=debug`), percent-decoded, last value
/// winning, and the body where the server reads bodies.
public struct HTTPEndpointRequest: Sendable {
    public let query: [String: String]
    /// The `Authorization` header, for endpoints that need a credential.
    public let authorization: String?
    /// Empty unless the server was given a body limit.
    public let body: [UInt8]

    /// Reads `a=1&b=%5Bfd00%3A%3A1%5D%3A80`.
    init(queryString: Substring?, authorization: String? = nil, body: [UInt8] = []) {
        self.authorization = authorization
        self.body = body
        var query: [String: String] = [:]
        for pair in queryString?.split(separator: "&") ?? [] {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let value = parts.count > 1 ? String(parts[1]) : ""
            query[String(parts[0])] = value.removingPercentEncoding ?? value
        }
        self.query = query
    }
}
