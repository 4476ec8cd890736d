/// What an endpoint sees of its request: the query parameters (`/logging?level=debug`), last value winning.
public struct HTTPEndpointRequest: Sendable {
    public let query: [String: String]

    /// Reads `a=1&b=2` (no percent-decoding: admin parameters are plain words).
    init(queryString: Substring?) {
        var query: [String: String] = [:]
        for pair in queryString?.split(separator: "&") ?? [] {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            query[String(parts[0])] = parts.count > 1 ? String(parts[1]) : ""
        }
        self.query = query
    }
}
