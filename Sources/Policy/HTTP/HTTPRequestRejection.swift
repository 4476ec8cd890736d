/// Why an HTTP/1.1 request is refused before any policy is applied, with the status it gets. A proxy that forwards
/// what its upstream might frame differently opens the door to request smuggling, so anything ambiguous is refused.
public struct HTTPRequestRejection: Error, Sendable, Hashable {
    public let status: Int
    public let reason: String

    public init(status: Int, reason: String) {
        self.status = status
        self.reason = reason
    }

    /// As long a request line as detection waits for: what it took for a request on length alone is refused here.
    public static let maximumTargetLength = HTTPPrefaceSniffer.maximumRequestLine

    /// Checks the framing and host of a request head. The parser already refuses Content-Length together with
    /// Transfer-Encoding, differing Content-Lengths and obsolete line folding; what remains is checked here.
    /// - Parameters:
    ///   - isHTTP11: HTTP/1.1 requires a Host header; HTTP/1.0 does not.
    ///   - hosts: the values of every Host field.
    ///   - transferEncodings: the values of every Transfer-Encoding field.
    ///   - target: the request target as sent, and whether the method is CONNECT.
    public static func check(
        isHTTP11: Bool, hosts: [String], transferEncodings: [String], target: String, isConnect: Bool
    ) -> Result<RequestTarget, HTTPRequestRejection> {
        if target.utf8.count > maximumTargetLength {
            return .failure(.init(status: 414, reason: "request target longer than \(maximumTargetLength) bytes"))
        }
        if hosts.count > 1 {
            return .failure(.init(status: 400, reason: "more than one Host header"))
        }
        if isHTTP11 && hosts.isEmpty {
            return .failure(.init(status: 400, reason: "HTTP/1.1 request without a Host header"))
        }
        if let host = hosts.first, RequestTarget.host(ofAuthority: Substring(host)) == nil {
            return .failure(.init(status: 400, reason: "malformed Host header"))
        }
        if !transferEncodings.isEmpty
            && (transferEncodings.count > 1 || transferEncodings[0].lowercased() != "chunked")
        {
            // Anything but one `chunked` is framed differently by different servers.
            return .failure(.init(status: 400, reason: "Transfer-Encoding other than a single 'chunked'"))
        }
        if !transferEncodings.isEmpty && !isHTTP11 {
            return .failure(.init(status: 400, reason: "Transfer-Encoding on an HTTP/1.0 request"))
        }
        guard let parsed = RequestTarget(parsing: target, isConnect: isConnect) else {
            return .failure(.init(status: 400, reason: "malformed request target"))
        }
        // Rules decide on the target's authority; an upstream routing on Host must not see another name.
        if let authority = parsed.authority, let host = hosts.first,
            RequestTarget.host(ofAuthority: authority)?.lowercased()
                != RequestTarget.host(ofAuthority: Substring(host))?.lowercased()
        {
            return .failure(.init(status: 400, reason: "Host does not match the request target"))
        }
        return .success(parsed)
    }
}
