import NIOCore
import NIOHTTP1
import Policy

/// One HTTP/1.1 client connection proxied request by request, as a value: each event from the client, the upstream
/// and the response timer goes in, and what the handler must do comes out. It holds no channel, so every path
/// (keep-alive, denial, retry, timeout, upgrade, a side closing) is tested without one; the handler only carries
/// actions out.
///
/// Requests are answered one at a time, in order. An allowed request goes to an upstream connection used as
/// `upstreams` says: a pooled one is handed back only once a response on it is read in full, and then the client's
/// connection and the upstream's are each other's no longer (a close on one does not end the other). Generic over
/// what names a request (its report) and an upstream connection.
struct HTTP1ConnectionStateMachine<Request, Connection> {
    /// Where the parts of the request being read go.
    private enum RequestState {
        case idle
        case forwarding
        /// Denied or refused: its remaining parts are read and dropped.
        case discarding
    }

    /// A forwarded request whose response has not ended yet.
    private struct Exchange {
        let request: Request
        let method: HTTPMethod
        let grpc: Bool
        /// The request asked to leave HTTP: `Upgrade` (the upstream may agree with 101) or `CONNECT`.
        let leavesHTTP: Bool
        /// How long the response may take to begin once the request is sent.
        let responseTimeout: Duration?
        /// The request, to send again if its connection fails it before answering (to another endpoint of a service,
        /// or on a new connection when a reused one had been closed by the server); nil when it may not be sent
        /// twice (not idempotent, or with a body the proxy does not keep).
        let replay: HTTPRequestHead?
        /// The connection may go back to the pool once the response is read: an HTTP/1.1 request that stays in HTTP.
        let mayReuseUpstream: Bool
        var retries: RetryAllowance
        /// The connection it went on was taken again from the pool: closed before any answer, the server had closed
        /// it while the request crossed, and never processed the request.
        var reusedUpstream = false
        /// The response's head lets its connection carry another request.
        var responseKeepsAlive = false
        var responseStarted = false
        var switchingProtocols = false
        var status: Int?
    }

    /// An answer the proxy writes itself.
    struct LocalResponse {
        let answer: LocalAnswer
        let version: HTTPVersion
        let method: HTTPMethod
        /// The request was a gRPC call, so the answer is a gRPC status.
        let grpc: Bool
        /// The connection ends once it is written.
        let closesConnection: Bool
        /// Reported complete with the answer's status.
        let reporting: Request?
    }

    /// The request goes again, to another endpoint of the service.
    struct Retry {
        let head: HTTPRequestHead
        /// The endpoint that failed it.
        let endpoint: SocketAddress
        /// Again on a new connection (the server never processed it), or to another endpoint.
        let next: RetryAllowance.Next
        /// The connection to it, to cut.
        let abandoned: Connection?

        /// The endpoints the new connection must avoid.
        var excluding: Set<SocketAddress> { next.excluding }

        /// What the endpoint is told it answered (its status, or 502 when it closed without an answer); nil when it
        /// never processed the request.
        var feedback: Int? {
            if case .elsewhere(_, let feedback) = next { feedback } else { nil }
        }

        /// The server never processed the request: it goes on a new connection, wherever the balancer picks.
        var fresh: Bool {
            if case .resend = next { true } else { false }
        }
    }

    /// What follows once a forwarded request's end is sent.
    enum AfterRequest {
        case nothing
        /// Its response must begin within this time.
        case startResponseTimer(Duration)
        /// The upstream agreed to leave HTTP before the request ended: both sides become a byte tunnel now.
        case becomeTunnel(Connection)
    }

    /// What follows once a response's end is written.
    enum AfterResponse {
        /// The connection waits for the next request.
        case keepOpen
        /// The connection ends once the response is written.
        case close
        /// A declined upgrade or CONNECT: the parser, which stopped at it, must be replaced to read what the client
        /// sent after it as requests; if that cannot be, the connection ends.
        case resumeParsing
        /// Both sides become a byte tunnel.
        case becomeTunnel(Connection)
    }

    enum HeadAction {
        /// Check and decide the request, then call `forward`, `answer` or `refuse`.
        case decide(waitsForUpstream: Bool)
        /// Drop the request: the upstream is gone and the client is being closed after it.
        case discard
    }

    enum Action {
        case none
        case writeUpstream(HTTPClientRequestPart, to: Connection)
        /// Take an upstream connection (from the pool, or a new one), avoiding these endpoints; the parts wait
        /// meanwhile.
        case dial(excluding: Set<SocketAddress>)
        /// Write the request's end (to the connection, when it is open; else it waits) and flush.
        case endRequest(HTTPClientRequestPart, to: Connection?, then: AfterRequest)
        /// The upstream connection is up: the request whose connect waited is no longer waiting; write the parts
        /// held for it, flush, and read from the client again if a read was held back.
        case upstreamReady(Connection, pending: [HTTPClientRequestPart], waiting: Request?, resumeReading: Bool)
        /// The upstream connection could not be opened.
        case connectFailed(waiting: Request?, LocalResponse)
        case respond(LocalResponse)
        /// Write the head; `feedback`, when given, is the final status the endpoint answered with.
        case writeResponseHead(HTTPResponseHead, startsResponse: Bool, feedback: Int?)
        case writeResponseBody(ByteBuffer)
        /// Report the request, write the response's end, hand `release`'s connection back to the pool (its response
        /// read in full), then go on as told.
        case endResponse(HTTPHeaders?, reporting: Request, status: Int?, release: Connection?, then: AfterResponse)
        case retry(Retry)
        /// Cut the upstream connection (its endpoint answered `feedback`, when given) and answer locally: it may
        /// still answer late, which must never be taken for the next request's response.
        case abandonUpstream(Connection?, feedback: Int?, LocalResponse)
        /// The upstream connection closed without a retry: tell its endpoint of the failure (when it left a request
        /// unanswered), report the request, and reset the client (mid-response, or when the upstream reset) or
        /// close it once what was written has reached it.
        case upstreamGone(feedback: Int?, reporting: Request?, reset: Bool)
        case closeOnceWritten
        case closeUpstream(Connection, abortively: Bool)
        /// Hand the connection back to the pool: its last response was read in full.
        case releaseUpstream(Connection)
        /// The exchange cannot complete: cut the upstream connection, if any, and reset the client.
        case abort(closingUpstream: Connection?)
    }

    let upstreams: HTTP1UpstreamUse
    private var request = RequestState.idle
    private var upstream = HTTP1UpstreamSlot<Connection>.empty
    private var exchange: Exchange?
    /// The client will send no more requests (it asked to close, half-closed, or its parser stopped).
    private var closeAfterResponse = false
    /// The upstream agreed to leave HTTP before the client's request ended: the tunnel starts at its end.
    private var tunnelPending = false
    /// A read from the client waits for the upstream to connect or to drain.
    private var readDeferred = false

    var connectedUpstream: Connection? { upstream.connection }

    /// The connection in the slot has a response read in full behind it and no request on it: the pool may have it
    /// back.
    private var upstreamIsFree = false

    /// The request that waits for a connection leaves it free for others once answered (it may be a stream of a
    /// shared connection).
    var exchangeSharesUpstream: Bool { exchange?.mayReuseUpstream ?? false }

    init(upstreams: HTTP1UpstreamUse = .ownConnection) {
        self.upstreams = upstreams
    }

    // MARK: Requests

    mutating func requestHead() -> HeadAction {
        switch upstream {
        case .closed:
            request = .discarding
            return .discard
        case .connected:
            return .decide(waitsForUpstream: false)
        case .empty, .connecting:
            return .decide(waitsForUpstream: true)
        }
    }

    /// The request failed its checks before any policy: it gets `answer`, and the connection ends.
    mutating func refuse(_ head: HTTPRequestHead, with answer: LocalAnswer, grpc: Bool, reporting: Request) -> Action {
        request = .discarding
        closeAfterResponse = true
        return .respond(
            LocalResponse(
                answer: answer, version: head.version, method: head.method, grpc: grpc, closesConnection: true,
                reporting: reporting))
    }

    /// The request was decided to be answered by the proxy (denied, or refused by a limit).
    mutating func answer(_ filtered: HTTP1RequestFilter, with answer: LocalAnswer, grpc: Bool, reporting: Request)
        -> Action
    {
        request = .discarding
        // After an upgrade request the parser reads no further request: the connection cannot go on.
        let closes = filtered.leavesHTTP || !filtered.head.isKeepAlive
        closeAfterResponse = closeAfterResponse || closes
        return .respond(
            LocalResponse(
                answer: answer, version: filtered.head.version, method: filtered.head.method, grpc: grpc,
                closesConnection: closes, reporting: reporting))
    }

    /// The request was decided to go upstream, as `head`.
    /// - Parameter retries: how often it may go again to another endpoint of a service, if it may go twice.
    mutating func forward(
        _ filtered: HTTP1RequestFilter, as head: HTTPRequestHead, reporting: Request, grpc: Bool, retries: Int,
        responseTimeout: Duration?
    ) -> Action {
        request = .forwarding
        closeAfterResponse = closeAfterResponse || !filtered.head.isKeepAlive
        let replayable = filtered.isReplayable
        exchange = Exchange(
            request: reporting, method: head.method, grpc: grpc, leavesHTTP: filtered.leavesHTTP,
            responseTimeout: responseTimeout, replay: replayable ? head : nil,
            mayReuseUpstream: upstreams != .ownConnection && filtered.head.version == .http1_1
                && !filtered.leavesHTTP,
            retries: RetryAllowance(replayable: replayable, retries: retries))
        // On a connection kept from the last request, the server may have closed it meanwhile, as a pooled one.
        if upstreamIsFree { exchange?.reusedUpstream = true }
        upstreamIsFree = false
        return send(.head(head))
    }

    mutating func requestBody(_ body: ByteBuffer) -> Action {
        guard request == .forwarding else { return .none }
        return send(.body(.byteBuffer(body)))
    }

    mutating func requestEnd(_ trailers: HTTPHeaders?) -> Action {
        let forwarded = request == .forwarding
        request = .idle
        guard forwarded else { return .none }
        let end = HTTPClientRequestPart.end(trailers)
        var connection: Connection?
        if case .write(let open) = upstream.send(end) { connection = open }
        if tunnelPending {
            tunnelPending = false
            guard let open = upstream.close() else { return .endRequest(end, to: connection, then: .nothing) }
            return .endRequest(end, to: connection, then: .becomeTunnel(open))
        }
        if let exchange, !exchange.responseStarted, let timeout = exchange.responseTimeout {
            return .endRequest(end, to: connection, then: .startResponseTimer(timeout))
        }
        return .endRequest(end, to: connection, then: .nothing)
    }

    /// A request that does not parse gets `answer` when nothing else is under way, and the connection ends after
    /// it; mid-exchange the exchange cannot complete.
    /// - Parameter reporting: made only when the request is answered.
    mutating func requestUnreadable(_ answer: LocalAnswer, reporting: () -> Request) -> Action {
        guard exchange == nil, request == .idle else { return failed() }
        request = .discarding
        closeAfterResponse = true
        return .respond(
            LocalResponse(
                answer: answer, version: .http1_1, method: .GET, grpc: false, closesConnection: true,
                reporting: reporting()))
    }

    private mutating func send(_ part: HTTPClientRequestPart) -> Action {
        switch upstream.send(part) {
        case .write(let connection): .writeUpstream(part, to: connection)
        case .dial: .dial(excluding: exchange?.retries.tried ?? [])
        case .queued, .dropped: .none
        }
    }

    // MARK: Upstream connection

    /// - Parameter reused: it was taken again from the pool.
    mutating func upstreamConnected(_ connection: Connection, reused: Bool = false) -> Action {
        // Not wanted any more: the slot was given up while it connected.
        guard let pending = upstream.connected(connection) else { return .closeUpstream(connection, abortively: false) }
        exchange?.reusedUpstream = reused
        let resume = readDeferred
        readDeferred = false
        return .upstreamReady(connection, pending: pending, waiting: exchange?.request, resumeReading: resume)
    }

    /// - Parameter answer: what the client gets, naming the destination.
    mutating func upstreamFailedToConnect(_ answer: LocalAnswer) -> Action {
        guard upstream.isConnecting else { return .none }
        upstream = .closed
        if request == .forwarding { request = .discarding }
        let failed = exchange
        exchange = nil
        closeAfterResponse = true
        return .connectFailed(
            waiting: failed?.request,
            LocalResponse(
                answer: answer, version: .http1_1, method: failed?.method ?? .GET, grpc: failed?.grpc ?? false,
                closesConnection: true, reporting: failed?.request))
    }

    /// The upstream connection closed.
    /// - Parameters:
    ///   - unprocessed: the server said it did not process the request (a stream it refused).
    ///   - endpoint: where it went; nil when it never connected.
    ///   - mayRetry: asked last, at most once, whether the request may go to an endpoint not among those given (it
    ///     spends from the service's retry budget).
    mutating func upstreamClosed(
        abortively: Bool, unprocessed: Bool = false, endpoint: SocketAddress?,
        mayRetry: (Set<SocketAddress>) -> Bool
    ) -> Action {
        // A kept connection the server closed between requests, its last response read in full: the next request
        // takes another; the client's connection is its own. (One the server had said it would close, the client
        // was told so, and its close is passed on below.)
        if upstreamIsFree, exchange == nil, request == .idle {
            upstream = .empty
            upstreamIsFree = false
            return .none
        }
        var feedback: Int?
        if let exchange, !exchange.responseStarted, endpoint != nil {
            feedback = 502
            let failure: RetryAllowance.Failure =
                exchange.reusedUpstream || unprocessed ? .unprocessed : .failed(feedback: 502)
            if let retry = retry(after: failure, from: endpoint, mayRetry: mayRetry) { return .retry(retry) }
        }
        upstream = .closed
        let failed = exchange
        exchange = nil
        // Mid-response, the client must see a truncated exchange as such (a reset); otherwise the client sees the
        // close the upstream made, after what it already got.
        let reset = failed.map { abortively || $0.responseStarted } ?? false
        return .upstreamGone(feedback: feedback, reporting: failed?.request, reset: reset)
    }

    /// Sends the request again, as the retry allowance says, when the connection it went on failed it before any of
    /// its answer reached the client.
    private mutating func retry(
        after failure: RetryAllowance.Failure, from endpoint: SocketAddress?, mayRetry: (Set<SocketAddress>) -> Bool
    ) -> Retry? {
        guard var current = exchange, let head = current.replay, !current.responseStarted, request == .idle,
            let endpoint, let next = current.retries.next(after: failure, at: endpoint, mayRetry: mayRetry)
        else { return nil }
        current.reusedUpstream = false
        exchange = current
        // A connection that failed the request while still up is cut; one the server closed is gone already.
        let abandoned: Connection? =
            switch next {
            case .resend: nil
            case .elsewhere: upstream.close()
            }
        upstream = .connecting(pending: [.head(head), .end(nil)])
        return Retry(head: head, endpoint: endpoint, next: next, abandoned: abandoned)
    }

    // MARK: Responses

    /// - Parameters:
    ///   - endpoint: the endpoint that answered.
    ///   - mayRetry: as for `upstreamClosed`.
    mutating func responseHead(
        _ head: HTTPResponseHead, from endpoint: SocketAddress?, mayRetry: (Set<SocketAddress>) -> Bool
    ) -> Action {
        guard var current = exchange else { return .none }
        let feedback = head.status.code >= 200 ? Int(head.status.code) : nil
        if let failure = RetryAllowance.Failure(answering: Int(head.status.code)),
            let retry = retry(after: failure, from: endpoint, mayRetry: mayRetry)
        {
            return .retry(retry)
        }
        var head = head
        let agreed =
            head.status == .switchingProtocols
            || (current.method == .CONNECT && (200..<300).contains(head.status.code))
        if agreed && current.leavesHTTP {
            current.switchingProtocols = true
        } else if !HTTP1ResponseFraming.mayCarryBody(head.status, answering: current.method) {
            // The encoder would frame a chunked terminator that such a response must not have.
            head.headers.remove(name: "transfer-encoding")
        } else if !HTTP1ResponseFraming.normalizeChunked(&head.headers, version: head.version) {
            // Framing the encoder cannot reproduce (another coding than chunked) would desynchronize the client.
            exchange = nil
            closeAfterResponse = true
            return .abandonUpstream(
                upstream.close(), feedback: feedback,
                LocalResponse(
                    answer: LocalAnswer(status: 502, text: "upstream response framing not supported"),
                    version: .http1_1, method: current.method, grpc: current.grpc, closesConnection: true,
                    reporting: current.request))
        }
        let starts = head.status.code >= 200 || head.status == .switchingProtocols
        if starts {
            current.responseStarted = true
            current.status = Int(head.status.code)
            current.responseKeepsAlive = head.isKeepAlive
            // The client's close was kept from the pooled upstream, so the upstream's answer does not carry it: the
            // client is told here that its connection ends (RFC 9112 section 9.6).
            if current.mayReuseUpstream, closeAfterResponse, head.status.code >= 200 {
                head.headers.replaceOrAdd(name: "connection", value: "close")
            }
        }
        exchange = current
        return .writeResponseHead(head, startsResponse: starts, feedback: feedback)
    }

    mutating func responseBody(_ body: ByteBuffer) -> Action {
        exchange == nil ? .none : .writeResponseBody(body)
    }

    mutating func responseEnd(_ trailers: HTTPHeaders?) -> Action {
        guard let current = exchange else { return .none }
        exchange = nil
        if current.switchingProtocols {
            guard request == .idle else {
                tunnelPending = true
                return .endResponse(
                    nil, reporting: current.request, status: current.status, release: nil, then: .keepOpen)
            }
            guard let open = upstream.close() else {
                return .endResponse(nil, reporting: current.request, status: current.status, release: nil, then: .close)
            }
            return .endResponse(
                nil, reporting: current.request, status: current.status, release: nil, then: .becomeTunnel(open))
        }
        // Read in full, with the request sent in full: the connection is free for any client's next request.
        var released: Connection?
        if current.mayReuseUpstream, current.responseKeepsAlive, request == .idle {
            if upstreams == .perRequest || closeAfterResponse {
                released = upstream.close()
                upstream = .empty
            } else {
                upstreamIsFree = true
            }
        }
        // A request that asked to leave HTTP and was answered otherwise: what the client sent after it is read as
        // requests again, each decided on its own; if that cannot be, the connection ends.
        let declined = current.leavesHTTP && !closeAfterResponse && request == .idle
        let after: AfterResponse =
            closeAfterResponse || (current.leavesHTTP && !declined) ? .close : declined ? .resumeParsing : .keepOpen
        return .endResponse(
            trailers, reporting: current.request, status: current.status, release: released, then: after)
    }

    /// The response did not begin within the request timeout: the client gets 504.
    mutating func responseTimedOut() -> Action {
        guard let current = exchange, !current.responseStarted else { return .none }
        exchange = nil
        closeAfterResponse = true
        return .abandonUpstream(
            upstream.close(), feedback: 504,
            LocalResponse(
                answer: .timedOut, version: .http1_1, method: current.method, grpc: current.grpc,
                closesConnection: true, reporting: current.request))
    }

    // MARK: Back-pressure and the client's end

    /// The client's channel asks to read. - Returns: read now; false holds the read back until the upstream has
    /// connected (`upstreamConnected`) or drained (`upstreamBecameWritable`).
    mutating func readRequested(upstreamIsWritable: Bool) -> Bool {
        switch upstream {
        case .connecting:
            readDeferred = true
        case .connected where !upstreamIsWritable:
            readDeferred = true
        case .empty, .connected, .closed:
            return true
        }
        return false
    }

    /// - Returns: read from the client now (a read was held back).
    mutating func upstreamBecameWritable() -> Bool {
        defer { readDeferred = false }
        return readDeferred
    }

    /// The client half-closed: no further request will come, but the one in flight still gets its response.
    mutating func clientInputClosed() -> Action {
        if request == .idle && exchange == nil { return .closeOnceWritten }
        closeAfterResponse = true
        return .none
    }

    /// A reset, or a request that broke off mid-way: the exchange cannot complete.
    mutating func failed() -> Action {
        .abort(closingUpstream: upstream.close())
    }

    /// The client's connection is gone. Mid-exchange it aborted it, and the upstream hears so; between requests, it
    /// just closed.
    mutating func clientClosed() -> Action {
        let aborted = exchange != nil || request == .forwarding
        guard let open = upstream.close() else { return .none }
        if upstreamIsFree && !aborted { return .releaseUpstream(open) }
        return .closeUpstream(open, abortively: aborted)
    }
}
