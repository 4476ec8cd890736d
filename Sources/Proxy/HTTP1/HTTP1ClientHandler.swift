import Glibc
import Logging
import NIOCore
import NIOHTTP1
import NIOHTTP2
import Policy
import Telemetry

/// Proxies one HTTP/1.1 client connection request by request, so that policy applies to every request of a
/// keep-alive connection, not only the first.
///
/// Each request is checked (framing and Host, against smuggling), then decided with the configuration in force when
/// it arrives. A denied request gets a `403` naming the rule and the connection stays usable; an allowed one goes to
/// the original destination (or the endpoint its service's balancer picks for it) over a kept-alive connection from
/// the event loop's pool, handed back once its response is read, or as a stream of a shared mesh connection; a
/// mutual TLS connection of its own is opened for the first allowed request and kept while both sides keep it.
/// Requests are answered one at a time, in order (`HTTPServerPipelineHandler` holds pipelined ones back). An upgrade that the upstream accepts with `101`, or an allowed `CONNECT`, turns the connection into a byte
/// tunnel. Back-pressure holds both ways: a side that cannot take more stops reads on the other.
///
/// On a sidecar's shared connection, one handler serves each stream that carries an app's HTTP/1.1 request
/// (`onMeshStream`): NIO's HTTP/2-to-HTTP/1 codec gives it the request as the app sent it, and it is decided and
/// forwarded to the app like any other.
///
/// What happens next is always `HTTP1ConnectionStateMachine`'s answer; this handler only carries it out on the
/// channels, the codecs and the timer.
final class HTTP1ClientHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart
    private typealias StateMachine = HTTP1ConnectionStateMachine<RequestDecider.Request, HTTP1UpstreamHandler>

    private let connection: RequestDecider
    /// Serves one stream of a sidecar's shared connection rather than a client's own connection.
    private let onMeshStream: Bool
    /// The client's own connection's codecs; none on a mesh stream, where NIO's HTTP/2 codec stands in.
    private var codecs: HTTP1ServerCodecs?
    private var context: ChannelHandlerContext?
    private var state: StateMachine
    /// Completes when the last response written so far has reached the socket.
    private var lastResponseEnd: EventLoopFuture<Void>?
    /// Runs out when the forwarded request's response has not begun within the request timeout.
    private var responseDeadline: Scheduled<Void>?
    /// The upstream connection carrying the current request.
    private var carrier: UpstreamCarrier?
    /// The socket holds what is written until the close (`corkUntilClose`).
    private var corked = false
    /// A request held until its body's first bytes are known, for the signatures to read before it is decided.
    private var held: (filtered: HTTP1RequestFilter, body: HeldRequestBody<HTTPServerRequestPart>)?

    /// Header limits, as Envoy's defaults: beyond them a request gets 431.
    static let decoderLimits: NIOHTTPDecoderLimitConfiguration = {
        var limits = NIOHTTPDecoderLimitConfiguration()
        limits.maxHeaderListSize = 60 * 1024
        limits.maxHeaderFieldSize = 60 * 1024
        limits.maxHeaderFieldCount = 100
        return limits
    }()

    init(connection: RequestDecider, onMeshStream: Bool = false) {
        self.connection = connection
        self.onMeshStream = onMeshStream
        state = StateMachine(upstreams: connection.upstream.http1Use)
    }

    /// Adds the codecs and this handler at the end of the client pipeline.
    func install(on channel: Channel) throws {
        let codecs = HTTP1ServerCodecs(decoderLimits: Self.decoderLimits)
        self.codecs = codecs
        try channel.pipeline.syncOperations.addHandlers([codecs.encoder, codecs.decoder, codecs.pipelining, self])
    }

    /// Adds NIO's HTTP/2-to-HTTP/1 codec and this handler to a stream of a sidecar's shared connection, after
    /// `handler`.
    func install(onStream stream: Channel, after handler: ChannelHandler) throws {
        let codec = HTTP2FramePayloadToHTTP1ServerCodec()
        try stream.pipeline.syncOperations.addHandler(codec, position: .after(handler))
        try stream.pipeline.syncOperations.addHandler(self, position: .after(codec))
    }

    var isWritable: Bool { context?.channel.isWritable ?? false }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
        responseDeadline?.cancel()
    }

    // MARK: Events in

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(var head):
            if onMeshStream {
                // The app spoke HTTP/1.1 (our header says so, and goes no further); NIO's codec names the version 2.
                head.version = .http1_1
                head.headers.remove(name: OriginalProtocolHeader.name)
            }
            receive(head)
        case .body(let body):
            if held != nil {
                hold(.body(body), carrying: body, ends: false)
            } else {
                run(state.requestBody(body))
            }
        case .end(let trailers):
            if held != nil {
                hold(.end(trailers), carrying: nil, ends: true)
            } else {
                run(state.requestEnd(trailers))
            }
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        // A body is written as it is read, and flushed per read, so the upstream's writability (which gates our
        // reads) moves as its socket drains.
        state.connectedUpstream?.flush()
        context.fireChannelReadComplete()
    }

    /// Checks the request, then decides it: at once, or once the first bytes of a body the signatures read are
    /// held.
    private func receive(_ head: HTTPRequestHead) {
        // A shared connection never carries a request that leaves HTTP: the originating sidecar gives those a
        // connection of their own.
        let check = HTTP1RequestFilter.check(head).flatMap { filtered in
            onMeshStream && filtered.leavesHTTP
                ? .failure(HTTPRequestRejection(status: 400, reason: "a request that leaves HTTP on a shared stream"))
                : .success(filtered)
        }
        switch check {
        case .failure(let rejection):
            guard case .decide = state.requestHead() else { return }
            let version = "\(head.version.major).\(head.version.minor)"
            connection.logger.info(
                "request refused", metadata: connection.logMetadata.merging(["reason": "\(rejection.reason)"]) { $1 })
            let refused = connection.unreadable(
                method: head.method.rawValue, host: head.headers.first(name: "host"), path: head.uri,
                version: version, header: { head.headers.first(name: $0) })
            run(
                state.refuse(
                    head, with: LocalAnswer(status: rejection.status, text: rejection.reason), grpc: refused.grpc,
                    reporting: refused))
        case .success(let filtered):
            if filtered.head.hasBody,
                let limit = connection.bodyBytesToInspect(
                    HTTP1RequestFacts(head: filtered.head, target: filtered.target))
            {
                held = (filtered, HeldRequestBody(limit: limit))
                // The body is wanted now, before any upstream could say so.
                if filtered.expectsContinue {
                    context?.writeAndFlush(
                        wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: .continue))),
                        promise: nil)
                }
                return
            }
            decide(filtered, body: nil)
        }
    }

    /// Keeps a part of a held request; once the hold is complete, the request is decided and its parts go on as
    /// that decision says (forwarded, or dropped after the answer).
    private func hold(_ part: HTTPServerRequestPart, carrying bytes: ByteBuffer?, ends: Bool) {
        guard var request = held else { return }
        guard request.body.add(part, carrying: bytes, ends: ends) else {
            held = request
            return
        }
        held = nil
        decide(request.filtered, body: request.body.prefix)
        for part in request.body.parts {
            switch part {
            case .head: break
            case .body(let body): run(state.requestBody(body))
            case .end(let trailers): run(state.requestEnd(trailers))
            }
        }
    }

    /// Decides the request once, and tells the state machine the outcome.
    private func decide(_ filtered: HTTP1RequestFilter, body: [UInt8]?) {
        guard case .decide(let waitsForUpstream) = state.requestHead() else { return }
        let version = "\(filtered.head.version.major).\(filtered.head.version.minor)"
        let decided = connection.decide(
            HTTP1RequestFacts(head: filtered.head, target: filtered.target), body: body, version: version,
            waitsForUpstream: waitsForUpstream)
        switch decided {
        case .answer(let answer, let request):
            run(state.answer(filtered, with: answer, grpc: request.grpc, reporting: request))
        case .forward(let request, let responseTimeout):
            run(
                state.forward(
                    filtered,
                    as: filtered.forwarded(
                        traceparent: request.trace.traceparent, clientCertificate: request.clientCertificate,
                        keepingUpstreamOpen: state.upstreams != .ownConnection),
                    reporting: request,
                    grpc: request.grpc, retries: connection.upstream.retries, responseTimeout: responseTimeout))
        }
    }

    /// A part of the upstream's response to the forwarded request.
    func upstreamResponded(_ part: HTTPClientResponsePart) {
        switch part {
        case .head(let head):
            run(state.responseHead(head, from: connection.record.upstream, mayRetry: connection.upstream.mayRetry))
        case .body(let body):
            run(state.responseBody(body))
        case .end(let trailers):
            run(state.responseEnd(trailers))
        }
    }

    func upstreamReadComplete() {
        context?.flush()
    }

    /// - Parameter unprocessed: the server said it never processed the request (it refused the stream).
    func upstreamClosed(abortively: Bool, unprocessed: Bool) {
        run(
            state.upstreamClosed(
                abortively: abortively, unprocessed: unprocessed, endpoint: connection.record.upstream,
                mayRetry: connection.upstream.mayRetry))
    }

    func upstreamBecameWritable() {
        if state.upstreamBecameWritable() { context?.read() }
    }

    func read(context: ChannelHandlerContext) {
        if state.readRequested(upstreamIsWritable: state.connectedUpstream?.isWritable ?? true) { context.read() }
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable { state.connectedUpstream?.clientBecameWritable() }
        context.fireChannelWritabilityChanged()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        switch event {
        case ChannelEvent.inputClosed:
            run(state.clientInputClosed())
        case is IdleStateHandler.IdleStateEvent:
            context.close(promise: nil)
        default:
            context.fireUserInboundEventTriggered(event)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        let action: StateMachine.Action
        if let parseError = error as? HTTPParserError {
            let answer =
                parseError == .headerOverflow
                ? LocalAnswer(status: 431, text: "request headers too large")
                : LocalAnswer(status: 400, text: "malformed request")
            action = state.requestUnreadable(answer) {
                connection.logger.info(
                    "request refused", metadata: connection.logMetadata.merging(["reason": "\(parseError)"]) { $1 })
                // Nothing of the request is known but that it failed; it still counts in the log and the metrics.
                return connection.unreadable(method: "", host: nil, path: "", version: "1.1") { _ in nil }
            }
        } else {
            action = state.failed()
        }
        if case .abort = action, connection.record.failure == nil { connection.record.failure = error }
        run(action)
    }

    func channelInactive(context: ChannelHandlerContext) {
        run(state.clientClosed())
        context.fireChannelInactive()
    }

    // MARK: Actions out

    private func run(_ action: StateMachine.Action) {
        switch action {
        case .none:
            break
        case .writeUpstream(let part, let upstream):
            upstream.write(part)
        case .dial(let excluding):
            dial(excluding: excluding, fresh: false)
        case .endRequest(let end, let upstream, let next):
            upstream?.write(end)
            upstream?.flush()
            switch next {
            case .nothing:
                break
            case .startResponseTimer(let timeout):
                responseDeadline = context?.eventLoop.assumeIsolated().scheduleTask(in: TimeAmount(timeout)) {
                    self.run(self.state.responseTimedOut())
                }
            case .becomeTunnel(let upstream):
                becomeTunnel(with: upstream)
            }
        case .upstreamReady(let upstream, let pending, let waiting, let resumeReading):
            waiting?.slot?.upstreamReady()
            carrier = upstream.carrier
            connection.record.upstream = carrier?.endpoint
            for part in pending { upstream.write(part) }
            upstream.flush()
            if resumeReading { context?.read() }
        case .connectFailed(let waiting, let response):
            waiting?.slot?.upstreamReady()
            respond(response)
        case .respond(let response):
            respond(response)
        case .writeResponseHead(let head, let startsResponse, let feedback):
            if let feedback { connection.upstream.answered(feedback, by: connection.record.upstream) }
            if startsResponse { responseDeadline?.cancel() }
            context?.write(wrapOutboundOut(.head(head)), promise: nil)
        case .writeResponseBody(let body):
            context?.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
        case .endResponse(let trailers, let request, let status, let released, let next):
            released?.handBack()
            endResponse(trailers, reporting: request, status: status, then: next)
        case .retry(let retry):
            connection.resending(
                method: retry.head.method.rawValue, path: retry.head.uri, failedAt: retry.endpoint, as: retry.next,
                on: "connection")
            retry.abandoned?.close(abortively: true)
            dial(excluding: retry.excluding, fresh: retry.fresh)
        case .abandonUpstream(let upstream, let feedback, let response):
            connection.logger.info(
                "upstream connection cut",
                metadata: connection.logMetadata.merging(["reason": "\(response.answer.text)"]) { $1 })
            if let feedback { connection.upstream.answered(feedback, by: connection.record.upstream) }
            upstream?.close(abortively: true)
            respond(response)
        case .upstreamGone(let feedback, let request, let reset):
            if let feedback { connection.upstream.answered(feedback, by: connection.record.upstream) }
            if let request { connection.completed(request, status: nil, carriedBy: carrier) }
            guard let context else { return }
            if reset { context.channel.reset() } else { closeOnceWritten(context) }
        case .closeOnceWritten:
            if let context { closeOnceWritten(context) }
        case .closeUpstream(let upstream, let abortively):
            upstream.close(abortively: abortively)
        case .releaseUpstream(let upstream):
            upstream.handBack()
        case .abort(let upstream):
            upstream?.close(abortively: true)
            context?.channel.reset()
        }
    }

    /// Takes an upstream connection for the request: a pooled one (its handler attached to this client), or a new
    /// one with a new handler.
    private func dial(excluding tried: Set<SocketAddress>, fresh: Bool) {
        guard let context else { return }
        let upstream = connection.upstream
        let loop = context.eventLoop
        let shares = state.exchangeSharesUpstream
        upstream.leaseHTTP1(on: loop, excluding: tried, fresh: fresh, shares: shares).assumeIsolated().whenComplete {
            result in
            do {
                let lease = try result.get()
                let channel = lease.channel
                let handler: HTTP1UpstreamHandler
                do {
                    if lease.reused {
                        handler = try channel.pipeline.syncOperations.handler(type: HTTP1UpstreamHandler.self)
                        handler.attach(to: self)
                    } else if let peer = lease.meshStreamPeer {
                        self.connection.record.meshTLS = true
                        self.connection.record.peer = peer
                        handler = HTTP1UpstreamHandler(client: self, pool: nil, onMeshStream: true)
                        try handler.install(on: channel)
                    } else {
                        handler = HTTP1UpstreamHandler(
                            client: self,
                            pool: lease.poolKey.flatMap { key in upstream.pools.http1(on: loop).map { ($0, key) } })
                        try handler.install(on: channel)
                    }
                } catch {
                    channel.close(promise: nil)
                    throw error
                }
                self.run(self.state.upstreamConnected(handler, reused: lease.reused))
            } catch {
                self.connection.logger.info(
                    "upstream connect failed",
                    metadata: self.connection.logMetadata.merging(["error": "\(error)"]) { $1 })
                self.run(self.state.upstreamFailedToConnect(.unreachable("\(self.connection.upstream.destination)")))
            }
        }
    }

    private func respond(_ response: StateMachine.LocalResponse) {
        guard let context else { return }
        if let request = response.reporting {
            connection.completed(request, status: response.answer.status, carriedBy: nil)
        }
        if response.closesConnection { corkUntilClose(context) }
        lastResponseEnd = response.answer.write(
            to: context, version: response.version, method: response.method, grpc: response.grpc,
            closesConnection: response.closesConnection
        ) { self.wrapOutboundOut($0) }
        if response.closesConnection { closeOnceWritten(context) }
    }

    private func endResponse(
        _ trailers: HTTPHeaders?, reporting request: RequestDecider.Request, status: Int?,
        then next: StateMachine.AfterResponse
    ) {
        connection.completed(request, status: status, carriedBy: carrier)
        guard let context else { return }
        let written = context.eventLoop.makePromise(of: Void.self)
        lastResponseEnd = written.futureResult
        if case .close = next { corkUntilClose(context) }
        // May deliver the next pipelined request at once: the state machine has settled before.
        context.writeAndFlush(wrapOutboundOut(.end(trailers)), promise: written)
        switch next {
        case .keepOpen:
            break
        case .close:
            closeOnceWritten(context)
        case .resumeParsing:
            if !resumeParsing(context) { closeOnceWritten(context) }
        case .becomeTunnel(let upstream):
            becomeTunnel(with: upstream)
        }
    }

    /// The upstream declined an upgrade or a CONNECT. The decoder stopped at that request and holds what the client
    /// sent after it, never forwarded: a fresh decoder takes its place, and on removal the old one passes those bytes
    /// to it, to be parsed and decided as requests.
    /// - Returns: false when the pipeline could not be changed.
    private func resumeParsing(_ context: ChannelHandlerContext) -> Bool {
        guard let stopped = codecs?.decoder else { return false }
        let fresh = HTTP1ServerCodecs.makeDecoder(limits: Self.decoderLimits)
        do {
            try context.pipeline.syncOperations.addHandler(fresh, position: .after(stopped))
        } catch {
            return false
        }
        codecs?.decoder = fresh
        context.pipeline.syncOperations.removeHandler(stopped, promise: nil)
        return true
    }

    /// Holds what is written from now on in the socket until the close that follows, so the response's last bytes
    /// and the FIN leave in one segment: the client reads the end of the connection with the response and closes
    /// second, and the TIME-WAIT stays here, on the listener's port. A client that closes first instead keeps one of
    /// the pod's ephemeral ports for a minute: under a pod's default settings Linux's connect() tries the even half of
    /// the range first, and a client closing thousands of connections a second fills it within seconds, after which
    /// each connect walks all of it (scripts/bench `--kernel-defaults`). Best effort: a socket that refuses the
    /// option only sends its FIN a moment later.
    private func corkUntilClose(_ context: ChannelHandlerContext) {
        guard !onMeshStream else { return }
        let cork = ChannelOptions.Types.SocketOption(level: .tcp, name: NIOBSDSocket.Option(rawValue: TCP_CORK))
        corked = (try? context.channel.syncOptions?.setOption(cork, value: 1)) != nil
    }

    /// Closes once the last response written has reached the socket (writes complete in order), so a client that
    /// reads slowly still gets all of it. One that stops reading is closed by the idle timeout.
    private func closeOnceWritten(_ context: ChannelHandlerContext) {
        guard let lastResponseEnd else {
            context.close(promise: nil)
            return
        }
        lastResponseEnd.assumeIsolated().whenComplete { _ in
            // Ending the output first sends the corked bytes with the FIN even where the client is still sending
            // (a request refused before it was read in full), which the full close then answers with a reset.
            if self.corked { context.close(mode: .output, promise: nil) }
            context.close(promise: nil)
        }
    }

    private func becomeTunnel(with upstream: HTTP1UpstreamHandler) {
        guard let context, let codecs else { return }
        let tunnel = HTTP1TunnelSwitch(
            client: context.channel, clientHandlers: [self, codecs.pipelining, codecs.encoder],
            clientDecoder: codecs.decoder,
            idleTimeout: TimeAmount(connection.configurations.current.timeouts.idle))
        if tunnel.connect(to: upstream) {
            connection.logger.debug("connection became a tunnel", metadata: connection.logMetadata)
        } else {
            context.channel.reset()
        }
    }
}

extension HTTPResponseEncoder.Configuration {
    /// Framing headers passed through as received.
    static var preservingFraming: Self {
        var configuration = Self()
        configuration.automaticallySetFramingHeaders = false
        return configuration
    }
}
