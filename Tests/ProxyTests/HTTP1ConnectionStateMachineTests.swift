import NIOCore
import NIOHTTP1
import Policy
import Testing

@testable import Proxy

/// An HTTP/1.1 client connection's every path, as events in and actions out, without a channel. Requests are named
/// by strings and upstream connections by numbers.
@Suite struct HTTP1ConnectionStateMachineTests {
    typealias Machine = HTTP1ConnectionStateMachine<String, Int>

    let endpointA = try! SocketAddress(ipAddress: "10.0.0.1", port: 80)
    let endpointB = try! SocketAddress(ipAddress: "10.0.0.2", port: 80)

    func request(_ method: HTTPMethod = .GET, _ uri: String = "/", _ headers: [(String, String)] = [])
        -> HTTP1RequestFilter
    {
        let head = HTTPRequestHead(
            version: .http1_1, method: method, uri: uri, headers: HTTPHeaders([("Host", "a")] + headers))
        guard case .success(let filtered) = HTTP1RequestFilter.check(head) else {
            fatalError("the test's request is refused: \(head)")
        }
        return filtered
    }

    func response(_ status: HTTPResponseStatus, _ headers: [(String, String)] = [("content-length", "0")])
        -> HTTPResponseHead
    {
        HTTPResponseHead(version: .http1_1, status: status, headers: HTTPHeaders(headers))
    }

    /// Reads a request head and forwards it as `name`.
    func forward(
        _ machine: inout Machine, _ filtered: HTTP1RequestFilter, as name: String, retries: Int = 0,
        timeout: Duration? = nil
    ) -> Machine.Action {
        guard case .decide = machine.requestHead() else {
            Issue.record("the request was not decided")
            return .none
        }
        return machine.forward(
            filtered, as: filtered.head, reporting: name, grpc: false, retries: retries, responseTimeout: timeout)
    }

    /// A machine whose first request, `r1`, went to upstream connection 1 and ended.
    func forwardedAndSent(
        _ filtered: HTTP1RequestFilter? = nil, retries: Int = 0, timeout: Duration? = nil
    ) -> Machine {
        var machine = Machine()
        _ = forward(&machine, filtered ?? request(), as: "r1", retries: retries, timeout: timeout)
        _ = machine.upstreamConnected(1)
        _ = machine.requestEnd(nil)
        return machine
    }

    /// Answers the exchange under way with an empty 200.
    func complete(_ machine: inout Machine) {
        _ = machine.responseHead(response(.ok), from: endpointA) { _ in false }
        _ = machine.responseEnd(nil)
    }

    // MARK: Requests

    @Test func theFirstRequestDialsAndItsPartsWaitForTheConnection() {
        var machine = Machine()
        let post = request(.POST, "/upload", [("content-length", "3")])
        guard case .dial(let excluding) = forward(&machine, post, as: "r1") else {
            Issue.record("no dial")
            return
        }
        #expect(excluding.isEmpty)
        guard case .none = machine.requestBody(ByteBuffer(string: "abc")) else {
            Issue.record("a body part was written before the connection was up")
            return
        }
        guard case .endRequest(_, nil, .nothing) = machine.requestEnd(nil) else {
            Issue.record("the end was not held")
            return
        }
        let readsNow = machine.readRequested(upstreamIsWritable: true)
        #expect(!readsNow)
        guard case .upstreamReady(1, let pending, "r1", true) = machine.upstreamConnected(1) else {
            Issue.record("the connection was not taken, or the held read not resumed")
            return
        }
        #expect(pending == [.head(post.head), .body(.byteBuffer(ByteBuffer(string: "abc"))), .end(nil)])
        #expect(machine.connectedUpstream == 1)
    }

    @Test func aKeepAliveRequestGoesOnTheOpenConnection() {
        var machine = forwardedAndSent()
        _ = machine.responseHead(response(.ok), from: endpointA) { _ in false }
        guard case .endResponse(nil, "r1", 200, nil, .keepOpen) = machine.responseEnd(nil) else {
            Issue.record("the response did not end keeping the connection")
            return
        }
        guard case .decide(waitsForUpstream: false) = machine.requestHead() else {
            Issue.record("the second request would wait for a connection that is open")
            return
        }
        let second = request(.GET, "/two")
        guard
            case .writeUpstream(.head(let head), to: 1) = machine.forward(
                second, as: second.head, reporting: "r2", grpc: false, retries: 0, responseTimeout: nil)
        else {
            Issue.record("the second request did not go on connection 1")
            return
        }
        #expect(head.uri == "/two")
    }

    @Test func aDeniedRequestKeepsTheConnectionUnlessItCannotGoOn() {
        var machine = Machine()
        _ = machine.requestHead()
        guard
            case .respond(let denied) = machine.answer(
                request(.POST, "/", [("content-length", "1")]), with: LocalAnswer(status: 403, text: "denied"),
                grpc: false, reporting: "r1")
        else {
            Issue.record("no answer")
            return
        }
        #expect(denied.answer.status == 403 && !denied.closesConnection && denied.reporting == "r1")
        guard case .none = machine.requestBody(ByteBuffer(string: "x")), case .none = machine.requestEnd(nil) else {
            Issue.record("a denied request's body went somewhere")
            return
        }

        _ = machine.requestHead()
        let closing = machine.answer(
            request(.GET, "/", [("connection", "close")]), with: LocalAnswer(status: 403, text: "denied"),
            grpc: false, reporting: "r2")
        _ = machine.requestEnd(nil)
        guard case .respond(let asked) = closing, asked.closesConnection else {
            Issue.record("a request that asked to close kept the connection")
            return
        }

        var upgrading = Machine()
        _ = upgrading.requestHead()
        let upgrade = request(.GET, "/ws", [("upgrade", "websocket"), ("connection", "upgrade")])
        guard
            case .respond(let refused) = upgrading.answer(
                upgrade, with: LocalAnswer(status: 403, text: "denied"), grpc: false, reporting: "r1"),
            refused.closesConnection
        else {
            Issue.record("a denied upgrade kept a connection whose parser has stopped")
            return
        }
    }

    @Test func aRefusedRequestEndsTheConnection() {
        var machine = Machine()
        _ = machine.requestHead()
        let head = HTTPRequestHead(version: .http1_1, method: .GET, uri: "/")
        guard
            case .respond(let refused) = machine.refuse(
                head, with: LocalAnswer(status: 400, text: "no host"), grpc: false, reporting: "r1")
        else {
            Issue.record("no answer")
            return
        }
        #expect(refused.answer.status == 400 && refused.closesConnection && refused.reporting == "r1")
        guard case .none = machine.requestEnd(nil) else {
            Issue.record("a refused request's end went somewhere")
            return
        }
    }

    @Test func anUnreadableRequestIsAnsweredOnlyWhenNothingIsUnderWay() {
        var idle = Machine()
        guard
            case .respond(let answered) = idle.requestUnreadable(
                LocalAnswer(status: 431, text: "too large"), reporting: { "bad" })
        else {
            Issue.record("no answer")
            return
        }
        #expect(answered.answer.status == 431 && answered.closesConnection && answered.reporting == "bad")

        var busy = forwardedAndSent()
        guard
            case .abort(closingUpstream: 1) = busy.requestUnreadable(
                LocalAnswer(status: 400, text: "x"),
                reporting: {
                    Issue.record("a request mid-exchange was reported as answered")
                    return "bad"
                })
        else {
            Issue.record("a broken request mid-exchange did not abort it")
            return
        }
    }

    // MARK: The upstream connection

    @Test func aFailedConnectAnswersTheWaitingRequestAndEndsTheConnection() {
        var machine = Machine()
        _ = forward(&machine, request(.POST, "/", [("content-length", "2")]), as: "r1")
        guard case .connectFailed("r1", let failed) = machine.upstreamFailedToConnect(.unreachable("10.0.0.1:80"))
        else {
            Issue.record("no answer to the waiting request")
            return
        }
        #expect(failed.answer.status == 502 && failed.closesConnection && failed.method == .POST)
        guard case .none = machine.requestBody(ByteBuffer(string: "xy")) else {
            Issue.record("the rest of the request went somewhere")
            return
        }
        guard case .closeUpstream(7, abortively: false) = machine.upstreamConnected(7) else {
            Issue.record("a connection that came too late was kept")
            return
        }
        guard case .discard = machine.requestHead() else {
            Issue.record("a request was decided on a connection being closed")
            return
        }
    }

    @Test func readsWaitWhileTheUpstreamCannotTakeMore() {
        var machine = forwardedAndSent()
        let whileFull = machine.readRequested(upstreamIsWritable: false)
        let onceDrained = machine.upstreamBecameWritable()
        let again = machine.upstreamBecameWritable()
        let whileDrained = machine.readRequested(upstreamIsWritable: true)
        #expect(!whileFull && onceDrained && !again && whileDrained)
    }

    @Test func theUpstreamClosingBetweenRequestsClosesTheClientAfterWhatItGot() {
        var machine = forwardedAndSent()
        complete(&machine)
        guard
            case .upstreamGone(feedback: nil, reporting: nil, reset: false) = machine.upstreamClosed(
                abortively: false, endpoint: endpointA, mayRetry: { _ in true })
        else {
            Issue.record("a close between requests was not passed on as a close")
            return
        }
        guard case .discard = machine.requestHead() else {
            Issue.record("a request was decided after the upstream went away")
            return
        }
    }

    @Test func theUpstreamClosingMidResponseResetsTheClient() {
        var machine = forwardedAndSent()
        _ = machine.responseHead(response(.ok, [("content-length", "10")]), from: endpointA) { _ in false }
        guard
            case .upstreamGone(feedback: nil, reporting: "r1", reset: true) = machine.upstreamClosed(
                abortively: false, endpoint: endpointA, mayRetry: { _ in true })
        else {
            Issue.record("a truncated response was not a reset")
            return
        }
    }

    @Test func theClientGoingAwayAbortsOnlyAnExchangeUnderWay() {
        var busy = forwardedAndSent()
        guard case .closeUpstream(1, abortively: true) = busy.clientClosed() else {
            Issue.record("the upstream did not hear of the aborted exchange")
            return
        }
        var between = forwardedAndSent()
        complete(&between)
        guard case .closeUpstream(1, abortively: false) = between.clientClosed() else {
            Issue.record("the upstream was not closed gracefully between requests")
            return
        }
        var never = Machine()
        guard case .none = never.clientClosed() else {
            Issue.record("an upstream that was never opened was closed")
            return
        }
    }

    @Test func aHalfClosedClientGetsItsResponseAndThenTheClose() {
        var busy = forwardedAndSent()
        guard case .none = busy.clientInputClosed() else {
            Issue.record("the half-close cut the exchange")
            return
        }
        _ = busy.responseHead(response(.ok), from: endpointA) { _ in false }
        guard case .endResponse(_, "r1", 200, nil, .close) = busy.responseEnd(nil) else {
            Issue.record("the connection stayed open after the last response")
            return
        }
        var idle = Machine()
        guard case .closeOnceWritten = idle.clientInputClosed() else {
            Issue.record("an idle half-closed client was kept")
            return
        }
    }

    // MARK: Responses

    @Test func theResponseTimerStartsAtTheRequestsEndAndRunsOutInto504() {
        var machine = Machine()
        _ = forward(&machine, request(), as: "r1", timeout: .seconds(5))
        _ = machine.upstreamConnected(1)
        guard case .endRequest(.end(nil), to: 1, then: .startResponseTimer(.seconds(5))) = machine.requestEnd(nil)
        else {
            Issue.record("no timer")
            return
        }
        guard case .abandonUpstream(1, feedback: 504, let answer) = machine.responseTimedOut() else {
            Issue.record("the timeout did not cut the upstream")
            return
        }
        #expect(answer.answer.status == 504 && answer.closesConnection && answer.reporting == "r1")
        guard case .none = machine.responseHead(response(.ok), from: endpointA, mayRetry: { _ in false }) else {
            Issue.record("a late response was passed on")
            return
        }
        guard case .discard = machine.requestHead() else {
            Issue.record("a request was decided after the timeout")
            return
        }
    }

    @Test func onlyAFinalResponseStopsTheTimer() {
        var machine = forwardedAndSent(timeout: .seconds(5))
        guard
            case .writeResponseHead(_, startsResponse: false, feedback: nil) = machine.responseHead(
                response(.continue, []), from: endpointA, mayRetry: { _ in false })
        else {
            Issue.record("100 Continue counted as the response")
            return
        }
        guard
            case .writeResponseHead(_, startsResponse: true, feedback: 200) = machine.responseHead(
                response(.ok), from: endpointA, mayRetry: { _ in false })
        else {
            Issue.record("200 did not start the response")
            return
        }
        guard case .none = machine.responseTimedOut() else {
            Issue.record("a started response timed out")
            return
        }
    }

    @Test func aFailedEndpointIsRetriedOnAnotherWithinTheRetries() {
        var machine = forwardedAndSent(retries: 1)
        var asked: [Set<SocketAddress>] = []
        guard
            case .retry(let retry) = machine.responseHead(
                response(.serviceUnavailable), from: endpointA,
                mayRetry: {
                    asked.append($0)
                    return true
                })
        else {
            Issue.record("no retry")
            return
        }
        #expect(asked == [[endpointA]])
        #expect(retry.endpoint == endpointA && retry.feedback == 503 && retry.abandoned == 1)
        #expect(retry.excluding == [endpointA] && retry.head.uri == "/")
        guard case .upstreamReady(2, let pending, "r1", _) = machine.upstreamConnected(2) else {
            Issue.record("the retry did not wait for a new connection")
            return
        }
        #expect(pending == [.head(retry.head), .end(nil)])
        guard
            case .writeResponseHead(_, startsResponse: true, feedback: 503) = machine.responseHead(
                response(.serviceUnavailable), from: endpointB,
                mayRetry: {
                    Issue.record("asked for a retry beyond the retries: \($0)")
                    return true
                })
        else {
            Issue.record("the last answer was not passed on")
            return
        }
    }

    /// A stream of a shared connection the server refused: it never processed the request, which goes again once on
    /// a new stream, spending no retry; refused again, the client is told.
    @Test func aRefusedRequestGoesAgainOnceOnANewConnection() {
        var machine = forwardedAndSent()
        guard
            case .retry(let retry) = machine.upstreamClosed(
                abortively: true, unprocessed: true, endpoint: endpointA,
                mayRetry: { _ in
                    Issue.record("a resend spent from the budget")
                    return true
                })
        else {
            Issue.record("a refused request was not sent again")
            return
        }
        #expect(retry.fresh && retry.feedback == nil && retry.abandoned == nil && retry.excluding.isEmpty)
        guard case .upstreamReady(2, let pending, "r1", _) = machine.upstreamConnected(2) else {
            Issue.record("the resend did not wait for a new connection")
            return
        }
        #expect(pending == [.head(retry.head), .end(nil)])
        guard
            case .upstreamGone(feedback: 502, reporting: "r1", reset: true) = machine.upstreamClosed(
                abortively: true, unprocessed: true, endpoint: endpointA, mayRetry: { _ in true })
        else {
            Issue.record("a request refused twice was sent a third time")
            return
        }
    }

    @Test func theBudgetCanRefuseARetry() {
        var machine = forwardedAndSent(retries: 2)
        guard
            case .upstreamGone(feedback: 502, reporting: "r1", reset: false) = machine.upstreamClosed(
                abortively: false, endpoint: endpointA, mayRetry: { _ in false })
        else {
            Issue.record("the close was not passed on")
            return
        }
    }

    @Test func aRequestWithABodyIsNeverSentTwice() {
        var machine = forwardedAndSent(request(.PUT, "/", [("content-length", "3")]), retries: 2)
        guard
            case .upstreamGone(feedback: 502, reporting: "r1", reset: true) = machine.upstreamClosed(
                abortively: true, endpoint: endpointA,
                mayRetry: { _ in
                    Issue.record("asked to retry a request with a body")
                    return true
                })
        else {
            Issue.record("the reset was not passed on")
            return
        }
    }

    @Test func framingTheEncoderCannotKeepIsA502() {
        var machine = forwardedAndSent()
        guard
            case .abandonUpstream(1, feedback: 200, let answer) = machine.responseHead(
                response(.ok, [("transfer-encoding", "gzip, chunked")]), from: endpointA, mayRetry: { _ in false })
        else {
            Issue.record("an unframeable response was passed on")
            return
        }
        #expect(answer.answer.status == 502 && answer.closesConnection && answer.reporting == "r1")
    }

    @Test func aResponseThatHasNoBodyLosesItsTransferEncoding() {
        var machine = forwardedAndSent(request(.HEAD))
        guard
            case .writeResponseHead(let head, _, _) = machine.responseHead(
                response(.ok, [("transfer-encoding", "chunked")]), from: endpointA, mayRetry: { _ in false })
        else {
            Issue.record("no head")
            return
        }
        #expect(!head.headers.contains(name: "transfer-encoding"))
    }

    // MARK: Leaving HTTP

    @Test func anUpgradeAgreedAfterTheRequestBecomesATunnelAtTheResponsesEnd() {
        var machine = forwardedAndSent(request(.GET, "/ws", [("upgrade", "websocket"), ("connection", "upgrade")]))
        _ = machine.responseHead(response(.switchingProtocols, []), from: endpointA) { _ in false }
        guard case .endResponse(nil, "r1", 101, nil, .becomeTunnel(1)) = machine.responseEnd(nil) else {
            Issue.record("no tunnel")
            return
        }
        #expect(machine.connectedUpstream == nil)
    }

    @Test func anUpgradeAgreedBeforeTheRequestEndedWaitsForIt() {
        var machine = Machine()
        let upgrade = request(
            .POST, "/ws", [("upgrade", "websocket"), ("connection", "upgrade"), ("content-length", "1")])
        _ = forward(&machine, upgrade, as: "r1")
        _ = machine.upstreamConnected(1)
        _ = machine.responseHead(response(.switchingProtocols, []), from: endpointA) { _ in false }
        guard case .endResponse(nil, "r1", 101, nil, .keepOpen) = machine.responseEnd(nil) else {
            Issue.record("the tunnel began before the request ended")
            return
        }
        _ = machine.requestBody(ByteBuffer(string: "x"))
        guard case .endRequest(.end(nil), to: 1, then: .becomeTunnel(1)) = machine.requestEnd(nil) else {
            Issue.record("no tunnel at the request's end")
            return
        }
    }

    @Test func aConnectAnsweredWith2xxBecomesATunnel() {
        var machine = forwardedAndSent(request(.CONNECT, "a:443", []))
        _ = machine.responseHead(response(.ok, []), from: endpointA) { _ in false }
        guard case .endResponse(_, "r1", 200, nil, .becomeTunnel(1)) = machine.responseEnd(nil) else {
            Issue.record("no tunnel")
            return
        }
    }

    @Test func aDeclinedUpgradeResumesParsingUnlessTheClientAskedToClose() {
        var machine = forwardedAndSent(request(.GET, "/ws", [("upgrade", "websocket"), ("connection", "upgrade")]))
        _ = machine.responseHead(response(.ok), from: endpointA) { _ in false }
        guard case .endResponse(_, "r1", 200, nil, .resumeParsing) = machine.responseEnd(nil) else {
            Issue.record("a declined upgrade did not resume parsing")
            return
        }
        #expect(machine.connectedUpstream == 1)

        var closing = forwardedAndSent(
            request(.GET, "/ws", [("upgrade", "websocket"), ("connection", "upgrade, close")]))
        _ = closing.responseHead(response(.ok), from: endpointA) { _ in false }
        guard case .endResponse(_, "r1", 200, nil, .close) = closing.responseEnd(nil) else {
            Issue.record("the connection went on after the client asked to close")
            return
        }
    }
}
