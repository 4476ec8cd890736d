import NIOCore
import NIOHTTP1
import Testing

@testable import Proxy

/// An HTTP/1.1 client connection whose upstream connections go back to a pool: which responses free their
/// connection, what a client's `Connection: close` ends, when a kept-alive client keeps its connection, and how a
/// pooled connection the server had closed is met.
@Suite struct HTTP1UpstreamReuseTests {
    typealias Machine = HTTP1ConnectionStateMachine<String, Int>

    let endpoint = try! SocketAddress(ipAddress: "10.0.0.1", port: 80)

    func request(
        _ method: HTTPMethod = .GET, _ headers: [(String, String)] = [], version: HTTPVersion = .http1_1
    ) -> HTTP1RequestFilter {
        let head = HTTPRequestHead(
            version: version, method: method, uri: "/", headers: HTTPHeaders([("Host", "a")] + headers))
        guard case .success(let filtered) = HTTP1RequestFilter.check(head) else {
            fatalError("the test's request is refused: \(head)")
        }
        return filtered
    }

    /// A machine that takes a connection per request (as to a service), whose request `r1` went on connection 1
    /// (`reused` if taken from the pool) and ended.
    func sent(_ filtered: HTTP1RequestFilter, reused: Bool = false, upstreams: HTTP1UpstreamUse = .perRequest)
        -> Machine
    {
        var machine = Machine(upstreams: upstreams)
        _ = machine.requestHead()
        _ = machine.forward(
            filtered, as: filtered.head, reporting: "r1", grpc: false, retries: 0, responseTimeout: nil)
        _ = machine.upstreamConnected(1, reused: reused)
        if !filtered.head.hasBody { _ = machine.requestEnd(nil) }
        return machine
    }

    func respond(_ machine: inout Machine, _ headers: [(String, String)] = [("content-length", "0")])
        -> Machine.Action
    {
        let head = HTTPResponseHead(version: .http1_1, status: .ok, headers: HTTPHeaders(headers))
        _ = machine.responseHead(head, from: endpoint) { _ in false }
        return machine.responseEnd(nil)
    }

    @Test func aResponseReadInFullFreesItsConnectionAndTheNextRequestTakesOneAgain() {
        var machine = sent(request())
        guard case .endResponse(nil, "r1", 200, 1, .keepOpen) = respond(&machine) else {
            Issue.record("the connection was not handed back")
            return
        }
        #expect(machine.connectedUpstream == nil)
        guard case .decide = machine.requestHead() else {
            Issue.record("the next request was not decided")
            return
        }
        let next = request()
        guard
            case .dial = machine.forward(
                next, as: next.head, reporting: "r2", grpc: false, retries: 0, responseTimeout: nil)
        else {
            Issue.record("the next request did not take a connection")
            return
        }
    }

    @Test func aClientsConnectionCloseEndsOnlyItsOwnConnection() {
        var machine = sent(request(.GET, [("Connection", "close")]))
        let head = HTTPResponseHead(version: .http1_1, status: .ok, headers: ["content-length": "0"])
        guard
            case .writeResponseHead(let written, _, _) = machine.responseHead(
                head, from: endpoint, mayRetry: { _ in false })
        else {
            Issue.record("the response head was not written")
            return
        }
        #expect(written.headers["connection"] == ["close"])
        guard case .endResponse(_, "r1", 200, 1, .close) = machine.responseEnd(nil) else {
            Issue.record("the upstream connection was not handed back while the client's closes")
            return
        }
    }

    @Test func aConnectionTheServerClosesIsNotHandedBack() {
        var machine = sent(request())
        guard case .endResponse(_, "r1", 200, nil, .keepOpen) = respond(&machine, [("connection", "close")]) else {
            Issue.record("a connection the server closes went back to the pool")
            return
        }
    }

    @Test func anHTTP10RequestKeepsItsConnectionToItself() {
        var machine = sent(request(version: .http1_0))
        guard case .endResponse(_, "r1", 200, nil, _) = respond(&machine, [("content-length", "0")]) else {
            Issue.record("an HTTP/1.0 exchange's connection went back to the pool")
            return
        }
    }

    @Test func aResponseEndingBeforeItsRequestKeepsTheConnection() {
        var machine = sent(request(.POST, [("content-length", "5")]))
        guard case .endResponse(_, "r1", 200, nil, _) = respond(&machine) else {
            Issue.record("a connection whose request was still being sent went back to the pool")
            return
        }
    }

    @Test func anUpgradeIsNeverHandedBack() {
        var machine = sent(request(.GET, [("Upgrade", "websocket"), ("Connection", "upgrade")]))
        guard case .endResponse(_, "r1", 200, nil, _) = respond(&machine) else {
            Issue.record("a declined upgrade's connection went back to the pool")
            return
        }
    }

    @Test func aPooledConnectionClosedBeforeAnAnswerIsRetriedOnceOnANewOne() {
        var machine = sent(request(), reused: true)
        guard
            case .retry(let retry) = machine.upstreamClosed(
                abortively: false, endpoint: endpoint,
                mayRetry: { _ in
                    Issue.record("a stale pooled connection spent the retry budget")
                    return false
                })
        else {
            Issue.record("the request was not sent again")
            return
        }
        #expect(retry.fresh && retry.excluding.isEmpty && retry.feedback == nil && retry.head.method == .GET)
        guard case .upstreamReady(2, let pending, "r1", _) = machine.upstreamConnected(2) else {
            Issue.record("the new connection did not take the request")
            return
        }
        #expect(pending.count == 2)
        guard
            case .upstreamGone(feedback: 502, reporting: "r1", reset: false) = machine.upstreamClosed(
                abortively: false, endpoint: endpoint, mayRetry: { _ in false })
        else {
            Issue.record("a new connection's failure was retried again")
            return
        }
    }

    @Test func aPooledConnectionFailingARequestWithABodyIsNotRetried() {
        var machine = sent(request(.POST, [("content-length", "1")]), reused: true)
        _ = machine.requestBody(ByteBuffer(string: "x"))
        _ = machine.requestEnd(nil)
        guard
            case .upstreamGone(feedback: 502, reporting: "r1", _) = machine.upstreamClosed(
                abortively: false, endpoint: endpoint, mayRetry: { _ in false })
        else {
            Issue.record("a request with a body was sent twice")
            return
        }
    }

    @Test func theForwardedHeadLeavesTheClientsCloseOut() {
        let filtered = request(.GET, [("Connection", "close, x-trace")])
        let pooled = filtered.forwarded(traceparent: "t", clientCertificate: .untouched, keepingUpstreamOpen: true)
        let dedicated = filtered.forwarded(traceparent: "t", clientCertificate: .untouched)
        #expect(pooled.headers["connection"] == ["x-trace"])
        #expect(dedicated.headers["connection"] == ["close, x-trace"])
        let closeOnly = request(.GET, [("Connection", "close")]).forwarded(
            traceparent: "t", clientCertificate: .untouched, keepingUpstreamOpen: true)
        #expect(!closeOnly.headers.contains(name: "connection"))
    }

    @Test func aKeepAliveClientKeepsItsPooledConnectionUntilItLeaves() {
        var machine = sent(request(), upstreams: .pooled)
        guard case .endResponse(_, "r1", 200, nil, .keepOpen) = respond(&machine) else {
            Issue.record("a kept-alive client's connection was handed back between its requests")
            return
        }
        guard case .decide(waitsForUpstream: false) = machine.requestHead() else {
            Issue.record("the next request would wait for a connection")
            return
        }
        let next = request()
        guard
            case .writeUpstream(_, to: 1) = machine.forward(
                next, as: next.head, reporting: "r2", grpc: false, retries: 0, responseTimeout: nil)
        else {
            Issue.record("the next request did not go on the kept connection")
            return
        }
        _ = machine.requestEnd(nil)
        _ = respond(&machine)
        guard case .releaseUpstream(1) = machine.clientClosed() else {
            Issue.record("the client's leaving did not hand the connection back")
            return
        }
    }

    @Test func aClientLeavingMidExchangeNeverHandsItsConnectionBack() {
        var machine = sent(request(), upstreams: .pooled)
        guard case .closeUpstream(1, abortively: true) = machine.clientClosed() else {
            Issue.record("a connection with a request on it was not cut")
            return
        }
    }

    @Test func aServerClosingAKeptConnectionLeavesTheClientOpen() {
        var machine = sent(request(), upstreams: .pooled)
        _ = respond(&machine)
        guard case .none = machine.upstreamClosed(abortively: false, endpoint: endpoint, mayRetry: { _ in false })
        else {
            Issue.record("the server's close was passed on to the client")
            return
        }
        guard case .decide(waitsForUpstream: true) = machine.requestHead() else {
            Issue.record("the next request did not take another connection")
            return
        }
    }

    @Test func aRequestOnAKeptConnectionTheServerClosedGoesAgainOnANewOne() {
        var machine = sent(request(), upstreams: .pooled)
        _ = respond(&machine)
        _ = machine.requestHead()
        let next = request()
        _ = machine.forward(next, as: next.head, reporting: "r2", grpc: false, retries: 0, responseTimeout: nil)
        _ = machine.requestEnd(nil)
        guard
            case .retry(let retry) = machine.upstreamClosed(
                abortively: false, endpoint: endpoint, mayRetry: { _ in false })
        else {
            Issue.record("the request was not sent again")
            return
        }
        #expect(retry.fresh)
    }

    @Test func aPooledClientThatAsksToCloseHandsItsConnectionBackAtOnce() {
        var machine = sent(request(.GET, [("Connection", "close")]), upstreams: .pooled)
        guard case .endResponse(_, "r1", 200, 1, .close) = respond(&machine) else {
            Issue.record("the connection was not handed back with the client's close")
            return
        }
    }
}
