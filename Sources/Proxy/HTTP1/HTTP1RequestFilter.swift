import NIOHTTP1
import Policy

/// What the HTTP/1 proxy makes of a client's request head before it is decided and forwarded. Pure: the framing and
/// host checks that keep a request from being framed differently upstream (smuggling), the one spelling of `chunked`
/// the encoder frames, whether the request asks to leave HTTP, the form it is forwarded in, and whether it may be
/// sent again to another endpoint.
struct HTTP1RequestFilter {
    /// The head as it goes on.
    private(set) var head: HTTPRequestHead
    let target: RequestTarget
    /// The request asked to leave HTTP: `Upgrade` with `Connection: upgrade` (the upstream may agree with 101), or
    /// `CONNECT`. The parser reads no request after it until the upstream has answered.
    let leavesHTTP: Bool

    /// The head checked, or why it is refused (with the status the client gets) before any policy.
    static func check(_ head: HTTPRequestHead) -> Result<HTTP1RequestFilter, HTTPRequestRejection> {
        let isConnect = head.method == .CONNECT
        return HTTPRequestRejection.check(
            isHTTP11: head.version == .http1_1, hosts: head.headers["host"],
            transferEncodings: head.headers["transfer-encoding"], target: head.uri, isConnect: isConnect
        ).map { target in
            var head = head
            // Checked to be one `chunked` in any case; the encoder frames only the exact lower-case form.
            if head.headers.contains(name: "transfer-encoding") {
                head.headers.replaceOrAdd(name: "transfer-encoding", value: "chunked")
            }
            return HTTP1RequestFilter(head: head, target: target, leavesHTTP: head.asksToLeaveHTTP)
        }
    }

    /// The head the upstream gets: with the proxy's span as the request's parent, `x-forwarded-client-cert` as the
    /// decision says, and without an offer of cleartext HTTP/2, which would carry every later request past the
    /// rules as tunnel bytes (the server then answers in HTTP/1.1, as behind Envoy; with no other connection option
    /// left, the request asks it to close after that). With `keepingUpstreamOpen`, a client's `Connection: close`
    /// is its own connection's: the upstream connection goes back to the pool after the response.
    func forwarded(traceparent: String, clientCertificate: ClientCertificateHeader, keepingUpstreamOpen: Bool = false)
        -> HTTPRequestHead
    {
        var head = self.head
        head.headers.remove(name: OriginalProtocolHeader.name)
        if keepingUpstreamOpen, head.version == .http1_1 {
            let options = head.headers[canonicalForm: "connection"]
            let kept = options.filter { !["close", "keep-alive"].contains($0.lowercased()) }
            if kept.count != options.count {
                head.headers.remove(name: "connection")
                if !kept.isEmpty { head.headers.add(name: "connection", value: kept.joined(separator: ", ")) }
            }
        }
        head.headers.replaceOrAdd(name: "traceparent", value: traceparent)
        if case .replaced(let value) = clientCertificate {
            head.headers.remove(name: ClientCertificateHeader.name)
            if let value { head.headers.add(name: ClientCertificateHeader.name, value: value) }
        }
        guard head.headers[canonicalForm: "upgrade"].contains(where: { $0.lowercased() == "h2c" }) else { return head }
        let kept = head.headers[canonicalForm: "connection"].filter {
            !["upgrade", "http2-settings"].contains($0.lowercased())
        }
        head.headers.remove(name: "upgrade")
        head.headers.remove(name: "http2-settings")
        head.headers.replaceOrAdd(name: "connection", value: kept.isEmpty ? "close" : kept.joined(separator: ", "))
        return head
    }

    /// An idempotent request (RFC 9110 section 9.2.2) without a body, that stays in HTTP: sending it again to
    /// another endpoint after the first failed it cannot do twice what the client asked once.
    var isReplayable: Bool {
        !leavesHTTP && RetryAllowance.mayResend(method: head.method.rawValue) && !head.hasBody
    }

    /// The client waits for `100 Continue` before it sends its body.
    var expectsContinue: Bool {
        head.headers[canonicalForm: "expect"].contains { $0.lowercased() == "100-continue" }
    }
}

extension HTTPRequestHead {
    /// `CONNECT`, or `Upgrade` with `Connection: upgrade`: once the server agrees, what follows is not HTTP.
    var asksToLeaveHTTP: Bool {
        method == .CONNECT
            || (headers.contains(name: "upgrade")
                && headers[canonicalForm: "connection"].contains { $0.lowercased() == "upgrade" })
    }

    /// A body follows the head: chunked, or a `Content-Length` above zero.
    var hasBody: Bool {
        headers.contains(name: "transfer-encoding") || headers["content-length"].contains { $0 != "0" }
    }
}
