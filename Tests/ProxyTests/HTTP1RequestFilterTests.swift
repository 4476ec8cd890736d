import NIOHTTP1
import Policy
import Testing

@testable import Proxy

/// The request head as the HTTP/1 proxy checks and forwards it, without a channel.
@Suite struct HTTP1RequestFilterTests {
    func head(_ method: HTTPMethod = .GET, _ uri: String = "/", _ headers: [(String, String)] = [("Host", "a")])
        -> HTTPRequestHead
    {
        HTTPRequestHead(version: .http1_1, method: method, uri: uri, headers: HTTPHeaders(headers))
    }

    @Test func refusalsComeWithTheirStatus() {
        guard case .failure(let rejection) = HTTP1RequestFilter.check(head(.GET, "/", [])) else {
            Issue.record("a request without Host passed")
            return
        }
        #expect(rejection.status == 400)
        guard case .failure(let long) = HTTP1RequestFilter.check(head(.GET, "/" + String(repeating: "a", count: 9000)))
        else {
            Issue.record("a 9 KiB target passed")
            return
        }
        #expect(long.status == 414)
    }

    /// `Chunked` in any case goes on as the one spelling the encoder frames; a request with a body is not replayable.
    @Test func chunkedIsSpelledAsTheEncoderFramesIt() throws {
        let filter = try HTTP1RequestFilter.check(head(.PUT, "/x", [("Host", "a"), ("Transfer-Encoding", "Chunked")]))
            .get()
        #expect(filter.head.headers["transfer-encoding"] == ["chunked"])
        #expect(!filter.isReplayable)
    }

    @Test(arguments: [
        (HTTPMethod.CONNECT, "db:5432", [("Host", "db:5432")], true),
        (.GET, "/ws", [("Host", "a"), ("Upgrade", "websocket"), ("Connection", "Upgrade")], true),
        (.GET, "/ws", [("Host", "a"), ("Upgrade", "websocket")], false),
        (.GET, "/", [("Host", "a")], false),
    ])
    func whatLeavesHTTP(method: HTTPMethod, uri: String, headers: [(String, String)], leaves: Bool) throws {
        let filter = try HTTP1RequestFilter.check(head(method, uri, headers)).get()
        #expect(filter.leavesHTTP == leaves)
        #expect(!leaves || !filter.isReplayable, "a request that leaves HTTP is never sent twice")
    }

    /// The forwarded head carries the proxy's span, and no offer of cleartext HTTP/2.
    @Test func theForwardedHeadHasTheSpanAndNoCleartextHTTP2Offer() throws {
        let filter = try HTTP1RequestFilter.check(
            head(
                .GET, "/x",
                [
                    ("Host", "a"), ("Upgrade", "h2c"), ("HTTP2-Settings", "AAMAAABk"),
                    ("Connection", "Upgrade, HTTP2-Settings"),
                ])
        ).get()
        let forwarded = filter.forwarded(
            traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", clientCertificate: .untouched)
        #expect(forwarded.headers["upgrade"].isEmpty && forwarded.headers["http2-settings"].isEmpty)
        #expect(forwarded.headers["connection"] == ["close"])
        #expect(forwarded.headers["traceparent"] == ["00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"])
    }

    /// Every copy of `x-forwarded-client-cert` the client sent is gone when the decision replaces it.
    @Test func theClientsOwnClientCertificateHeaderIsReplaced() throws {
        let filter = try HTTP1RequestFilter.check(
            head(
                .GET, "/x",
                [
                    ("Host", "a"), ("X-Forwarded-Client-Cert", "URI=spiffe://cluster.local/ns/a/sa/admin"),
                    ("x-forwarded-client-cert", "By=x"),
                ])
        ).get()
        let traceparent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
        let ours = "By=spiffe://td/b;Hash=00;URI=spiffe://td/a"
        #expect(
            filter.forwarded(traceparent: traceparent, clientCertificate: .replaced(with: ours))
                .headers["x-forwarded-client-cert"] == [ours])
        #expect(
            filter.forwarded(traceparent: traceparent, clientCertificate: .replaced(with: nil))
                .headers["x-forwarded-client-cert"].isEmpty)
        #expect(
            filter.forwarded(traceparent: traceparent, clientCertificate: .untouched)
                .headers["x-forwarded-client-cert"].count == 2)
    }

    @Test(arguments: [
        (HTTPMethod.GET, [("Host", "a")], true), (.DELETE, [("Host", "a")], true),
        (.POST, [("Host", "a")], false), (.PUT, [("Host", "a"), ("Content-Length", "3")], false),
        (.PUT, [("Host", "a"), ("Content-Length", "0")], true),
    ])
    func onlyIdempotentRequestsWithoutABodyAreReplayable(
        method: HTTPMethod, headers: [(String, String)], replayable: Bool
    ) throws {
        #expect(try HTTP1RequestFilter.check(head(method, "/", headers)).get().isReplayable == replayable)
    }
}

/// What framing of an upstream's response the encoder can pass on.
@Suite struct HTTP1ResponseFramingTests {
    @Test func onlyOneChunkedOnHTTP11IsPassedOn() {
        var chunked = HTTPHeaders([("Transfer-Encoding", "Chunked")])
        #expect(HTTP1ResponseFraming.normalizeChunked(&chunked, version: .http1_1))
        #expect(chunked["transfer-encoding"] == ["chunked"])
        var gzip = HTTPHeaders([("Transfer-Encoding", "gzip, chunked")])
        #expect(!HTTP1ResponseFraming.normalizeChunked(&gzip, version: .http1_1))
        var old = HTTPHeaders([("Transfer-Encoding", "chunked")])
        #expect(!HTTP1ResponseFraming.normalizeChunked(&old, version: .http1_0))
        var none = HTTPHeaders()
        #expect(HTTP1ResponseFraming.normalizeChunked(&none, version: .http1_1))
    }

    @Test func bodilessAnswers() {
        #expect(!HTTP1ResponseFraming.mayCarryBody(.ok, answering: .HEAD))
        #expect(!HTTP1ResponseFraming.mayCarryBody(.noContent, answering: .GET))
        #expect(!HTTP1ResponseFraming.mayCarryBody(.notModified, answering: .GET))
        #expect(!HTTP1ResponseFraming.mayCarryBody(.continue, answering: .GET))
        #expect(HTTP1ResponseFraming.mayCarryBody(.ok, answering: .GET))
    }
}
