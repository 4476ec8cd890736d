import NIOCore
import NIOHPACK
import NIOHTTP2
import Policy
import Telemetry

/// Stands at the start of each client stream until its request is decided. A denied request gets `403` on its
/// stream, naming the rule, and the connection's other streams go on; an allowed one gets a stream of its own on a
/// shared upstream connection (to the endpoint picked for it), and the gate hands over to a frame relay between the
/// two. A request whose body the
/// signatures read is held until its first bytes are known. On a sidecar's shared connection, a stream that carries
/// an app's HTTP/1.1 request is handed, undecided, to an `HTTP1ClientHandler` of its own, which decides it and gives
/// the app HTTP/1.1. A request that may go twice (idempotent, without a body) and fails upstream before any of its
/// answer is sent goes again on a new stream, as its `RetryAllowance` says: the gate leaves the pipeline, but stays
/// with the relay for that.
final class HTTP2RequestGate: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTP2Frame.FramePayload
    typealias OutboundIn = HTTP2Frame.FramePayload
    typealias OutboundOut = HTTP2Frame.FramePayload

    private enum State {
        case awaitingHeaders
        /// Held, HEADERS first, until the first bytes of its body are known.
        case holding(HPACKHeaders, HeldRequestBody<HTTP2Frame.FramePayload>)
        /// Allowed; frames read meanwhile wait for the upstream stream, and further reads wait too.
        case opening(pending: [HTTP2Frame.FramePayload])
        /// Answered by the proxy; the rest of the request is dropped.
        case answered
    }

    private let session: HTTP2ClientHandler
    private var state = State.awaitingHeaders
    private var context: ChannelHandlerContext?
    private var readDeferred = false
    /// The client sent END_STREAM: its half of the stream is done.
    private var requestEnded = false
    /// The allowed request, while its upstream streams open.
    private var request: RequestDecider.Request?
    private var responseTimeout: Duration?
    /// The request's HEADERS as forwarded, when it may go again (idempotent, and ended by them).
    private var replay: HTTP2Frame.FramePayload?
    private var retries = RetryAllowance(replayable: false, retries: 0)

    init(session: HTTP2ClientHandler) {
        self.session = session
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let payload = unwrapInboundIn(data)
        if payload.endsStream { requestEnded = true }
        switch state {
        case .awaitingHeaders:
            guard case .headers(let headers) = payload else {
                // NIO lets nothing but HEADERS open a stream; anything else here is a broken peer.
                context.close(promise: nil)
                return
            }
            if session.takesApartMeshStreams,
                headers.headers.first(name: OriginalProtocolHeader.name) == OriginalProtocolHeader.http11
            {
                handOverToHTTP1(context: context, data: data)
                return
            }
            if !headers.endStream, let facts = HTTP2RequestFacts(headers: headers.headers),
                let limit = session.connection.bodyBytesToInspect(facts)
            {
                var body = HeldRequestBody<HTTP2Frame.FramePayload>(limit: limit)
                _ = body.add(payload, carrying: nil, ends: false)
                state = .holding(headers.headers, body)
                return
            }
            decide(headers.headers, frames: [payload], body: nil, context: context)
        case .holding(let headers, var body):
            var bytes: ByteBuffer?
            switch payload {
            case .data(let data):
                if case .byteBuffer(let buffer) = data.data { bytes = buffer }
            case .headers:
                break
            default:
                return
            }
            if body.add(payload, carrying: bytes, ends: payload.endsStream) {
                decide(headers, frames: body.parts, body: body.prefix, context: context)
            } else {
                state = .holding(headers, body)
            }
        case .opening(var pending):
            // Only the request itself waits: flow control is this hop's own.
            switch payload {
            case .headers, .data:
                pending.append(payload)
                state = .opening(pending: pending)
            default:
                break
            }
        case .answered:
            break
        }
    }

    /// Decides the request whose frames, HEADERS first, are `frames`; `body` is the first bytes of a body held for
    /// the signatures.
    /// The stream carries an app's HTTP/1.1 request: an HTTP/1 handler of its own takes the stream from here, with
    /// the HEADERS that opened it, and the gate leaves.
    private func handOverToHTTP1(context: ChannelHandlerContext, data: NIOAny) {
        let http1 = HTTP1ClientHandler(connection: session.connection, onMeshStream: true)
        do {
            try http1.install(onStream: context.channel, after: self)
        } catch {
            context.close(promise: nil)
            return
        }
        context.fireChannelRead(data)
        context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
    }

    private func decide(
        _ headers: HPACKHeaders, frames: [HTTP2Frame.FramePayload], body: [UInt8]?, context: ChannelHandlerContext
    ) {
        let connection = session.connection
        let headRequest = headers.first(name: ":method") == "HEAD"
        guard let facts = HTTP2RequestFacts(headers: headers) else {
            let refused = connection.unreadable(
                method: headers.first(name: ":method") ?? "", host: headers.first(name: ":authority"),
                path: headers.first(name: ":path") ?? "", version: "2", header: { headers.first(name: $0) })
            answer(
                LocalAnswer(status: 400, text: "malformed request target"), reporting: refused,
                headRequest: headRequest, context: context)
            return
        }
        let request: RequestDecider.Request
        let responseTimeout: Duration?
        switch connection.decide(
            facts, body: body, version: "2",
            waitsForUpstream: connection.upstream.http2StreamWaits(on: context.eventLoop))
        {
        case .answer(let local, let refused):
            answer(local, reporting: refused, headRequest: headRequest, context: context)
            return
        case .forward(let forwarded, let timeout):
            request = forwarded
            responseTimeout = timeout
        }
        // The upstream sees the proxy's span as the request's parent, and the caller as the decision says.
        var forwarded = headers
        forwarded.replaceOrAdd(name: "traceparent", value: request.trace.traceparent)
        if case .replaced(let value) = request.clientCertificate {
            forwarded.remove(name: ClientCertificateHeader.name)
            if let value { forwarded.add(name: ClientCertificateHeader.name, value: value) }
        }
        guard case .headers(var frame) = frames.first else { return }
        frame.headers = forwarded
        state = .opening(pending: [.headers(frame)] + frames.dropFirst())
        self.request = request
        self.responseTimeout = responseTimeout
        let replayable = frame.endStream && RetryAllowance.mayResend(method: facts.method)
        if replayable { replay = .headers(frame) }
        retries = RetryAllowance(replayable: replayable, retries: connection.upstream.retries)
        connection.upstream.openHTTP2Stream(on: context.eventLoop).assumeIsolated().whenComplete { result in
            self.opened(result)
        }
    }

    /// The upstream stream opened (or failed to): the relay takes over between the two streams, with what waited
    /// sent first.
    private func opened(_ result: Result<UpstreamLease, Error>) {
        guard let context, case .opening(let pending) = state, let request else {
            // The client stream went away meanwhile.
            if case .success(let lease) = result { lease.channel.close(promise: nil) }
            return
        }
        request.slot?.upstreamReady()
        let lease: UpstreamLease
        switch result {
        case .success(let opened):
            lease = opened
        case .failure(let error):
            unreachable(error, reporting: request, context: context)
            return
        }
        let clientEnd = HTTP2StreamRelay.clientEnd()
        do {
            try context.pipeline.syncOperations.addHandler(clientEnd)
        } catch {
            lease.channel.close(promise: nil)
            context.close(promise: nil)
            return
        }
        // The request's end came before the relay did: the relay cannot see it, so it is told.
        clientEnd.readEnded = requestEnded
        carry(request, on: lease, for: clientEnd, sending: pending)
        let resumeReading = readDeferred
        context.pipeline.syncOperations.removeHandler(self, promise: nil)
        if resumeReading { context.channel.read() }
    }

    /// Links `lease`'s stream to the client's end of the relay and sends `frames` on it. Its end sees the response's
    /// status and the stream's end: it reports the request, or offers a failure before any answer for a retry.
    private func carry(
        _ request: RequestDecider.Request, on lease: UpstreamLease, for clientEnd: HTTP2StreamRelay,
        sending frames: [HTTP2Frame.FramePayload]
    ) {
        let connection = session.connection
        let upstream = lease.channel
        if let peer = lease.meshStreamPeer {
            connection.record.meshTLS = true
            connection.record.peer = peer
        }
        let carrier = UpstreamCarrier(upstream)
        connection.record.upstream = carrier.endpoint
        let upstreamEnd = HTTP2StreamRelay.upstreamEnd(for: clientEnd)
        upstreamEnd.responseTimeout = responseTimeout.map(TimeAmount.init)
        upstreamEnd.answersGRPC = request.grpc
        upstreamEnd.report = { status in
            if let status, let endpoint = carrier.endpoint { connection.upstream.answered(status, by: endpoint) }
            connection.completed(request, status: status, carriedBy: carrier)
        }
        if replay != nil {
            upstreamEnd.retry = { [unowned upstreamEnd] failure in
                self.resend(after: failure, at: carrier.endpoint, letting: upstreamEnd, go: clientEnd)
            }
        }
        do {
            try upstream.pipeline.syncOperations.addHandler(upstreamEnd)
        } catch {
            upstreamEnd.letGo()
            upstream.close(promise: nil)
            clientEnd.context?.close(promise: nil)
            return
        }
        for payload in frames { upstream.write(payload, promise: nil) }
        upstream.flush()
        if requestEnded { upstreamEnd.requestEnded() }
    }

    /// The upstream stream failed before any of its answer reached the client (whose stream is still open): the
    /// request goes again on a new stream when its allowance says so, and `failed`, let go, leaves its place beside
    /// `clientEnd` to that stream's end.
    private func resend(
        after failure: RetryAllowance.Failure, at endpoint: SocketAddress?, letting failed: HTTP2StreamRelay,
        go clientEnd: HTTP2StreamRelay
    ) -> Bool {
        let connection = session.connection
        guard let replay, let request, let endpoint, let client = clientEnd.context, client.channel.isActive,
            let next = retries.next(after: failure, at: endpoint, mayRetry: connection.upstream.mayRetry)
        else { return false }
        failed.letGo()
        connection.resending(
            method: request.method, path: request.path, failedAt: endpoint, as: next, on: "stream")
        connection.upstream.openHTTP2Stream(on: client.eventLoop, excluding: next.excluding).assumeIsolated()
            .whenComplete { result in
                switch result {
                case .success(let lease) where clientEnd.context != nil:
                    self.carry(request, on: lease, for: clientEnd, sending: [replay])
                case .success(let lease):
                    // The client's stream went away meanwhile.
                    lease.channel.close(promise: nil)
                    connection.completed(request, status: nil, carriedBy: nil)
                case .failure(let error):
                    guard let client = clientEnd.context else {
                        return connection.completed(request, status: nil, carriedBy: nil)
                    }
                    self.unreachable(error, reporting: request, context: client)
                }
            }
        return true
    }

    /// No upstream stream could be opened: the client gets 502 on its stream.
    private func unreachable(_ error: Error, reporting request: RequestDecider.Request, context: ChannelHandlerContext)
    {
        let connection = session.connection
        connection.logger.info(
            "upstream connect failed", metadata: connection.logMetadata.merging(["error": "\(error)"]) { $1 })
        answer(
            .unreachable("\(connection.upstream.destination)"), reporting: request,
            headRequest: request.method == "HEAD", context: context)
    }

    /// The proxy's own answer, complete in itself, reported as the request's. A client still sending its request
    /// is then told to stop with a reset of the stream (RFC 9113 section 8.1).
    private func answer(
        _ answer: LocalAnswer, reporting request: RequestDecider.Request, headRequest: Bool,
        context: ChannelHandlerContext
    ) {
        state = .answered
        session.connection.completed(request, status: answer.status, carriedBy: nil)
        let frames = answer.http2Frames(
            headRequest: headRequest, grpc: request.grpc, allocator: context.channel.allocator)
        for frame in frames.dropLast() { context.write(wrapOutboundOut(frame), promise: nil) }
        let written = context.eventLoop.makePromise(of: Void.self)
        context.writeAndFlush(wrapOutboundOut(frames.last!), promise: written)
        if !requestEnded {
            written.futureResult.assumeIsolated().whenComplete { _ in context.close(promise: nil) }
        }
    }

    func read(context: ChannelHandlerContext) {
        if case .opening = state {
            readDeferred = true
        } else {
            context.read()
        }
    }
}

extension HTTP2Frame.FramePayload {
    /// Whether the frame carries END_STREAM.
    var endsStream: Bool {
        switch self {
        case .headers(let headers): headers.endStream
        case .data(let data): data.endStream
        default: false
        }
    }
}
