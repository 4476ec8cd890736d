import NIOHTTP1

/// How an upstream's HTTP/1 response may be framed on its way to the client. The encoder adds no framing of its own
/// (it passes the upstream's through), so what it cannot reproduce exactly must not reach it.
enum HTTP1ResponseFraming {
    /// True when the message's framing is one the encoder reproduces: no Transfer-Encoding, or a single `chunked`
    /// on HTTP/1.1, which is then written in the exact lower-case form the encoder looks for.
    static func normalizeChunked(_ headers: inout HTTPHeaders, version: HTTPVersion) -> Bool {
        let codings = headers[canonicalForm: "transfer-encoding"]
        guard !codings.isEmpty else { return true }
        guard codings.count == 1, codings[0].lowercased() == "chunked", version == .http1_1 else { return false }
        headers.replaceOrAdd(name: "transfer-encoding", value: "chunked")
        return true
    }

    /// Responses to HEAD, and 1xx, 204 and 304 responses, never have a body (RFC 9110 section 6.4.1).
    static func mayCarryBody(_ status: HTTPResponseStatus, answering method: HTTPMethod) -> Bool {
        method != .HEAD && status.code >= 200 && status != .noContent && status != .notModified
    }
}
