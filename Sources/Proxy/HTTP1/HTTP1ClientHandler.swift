import Logging
import NIOCore
import NIOHTTP1
import Policy
import Telemetry

/// Proxies one HTTP/1.1 client connection request by request, so that policy applies to every request of a
/// keep-alive connection, not only the first.
///
/// Each request is checked (framing and Host, against smuggling), then decided with the configuration in force when
/// it arrives. A denied request gets a `403` naming the rule and the connection stays usable; an allowed one goes to
/// the original destination over one upstream connection, opened for the first allowed request and kept while both
/// sides keep it. Requests are answered one at a time, in order (`HTTPServerPipelineHandler` holds pipelined ones
/// back). An upgrade that the upstream accepts with `101`, or an allowed `CONNECT`, turns the connection into a byte
/// tunnel. Back-pressure holds both ways: a side that cannot take more stops reads on the other.
final class HTTP1ClientHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    /// Where the parts of the request being read go.
    private enum RequestState {
        case idle
        case forwarding
        /// Denied or refused: its remaining parts are read and dropped.
        case discarding
    }

    /// The upstream connection, opened for the first allowed request and kept for those after it.
    private enum Upstream {
        case none
        /// Parts forwarded before the connect completed, sent once it does; reads wait meanwhile.
        case connecting(pending: [HTTPClientRequestPart])
        case connected(HTTP1UpstreamHandler)
        case closed
    }

    /// A forwarded request whose response has not ended yet.
    private struct Exchange {
        let request: RequestDecider.Request
        let method: HTTPMethod
        /// The request asked to leave HTTP: `Upgrade` (the upstream may agree with 101) or `CONNECT`.
        let leavesHTTP: Bool
        var responseStarted = false
        var switchingProtocols = false
        var status: Int?
        /// The request, to send again to another endpoint of a service if this one fails it before answering; nil
        /// when it may not be sent twice (not idempotent, or with a body the proxy does not keep).
        var replay: HTTPRequestHead?
        var retriesLeft = 0
        /// The service endpoints that failed it.
        var tried: Set<SocketAddress> = []
        /// How long the response may take to begin once the request is sent, from the request's configuration.
        let responseTimeout: Duration?
    }

    private let connection: RequestDecider
    /// Framing is the upstream's own, so the encoder must not add any.
    private let encoder = HTTPResponseEncoder(configuration: .preservingFraming)
    /// After an upgrade request the decoder stops parsing; on removal it passes on what the client sent after it.
    private var decoder: ByteToMessageHandler<HTTPRequestDecoder>
    private let pipelining = HTTPServerPipelineHandler()
    private var context: ChannelHandlerContext?
    private var request = RequestState.idle
    private var upstream = Upstream.none
    private var exchange: Exchange?
    /// The client will send no more requests (it asked to close, half-closed, or its parser stopped).
    private var closeAfterResponse = false
    /// The upstream agreed to leave HTTP (101, or 2xx to a CONNECT) before the client's request ended: the tunnel
    /// starts at its end, once the request decoder holds nothing but bytes for the tunnel.
    private var tunnelPending = false
    private var readDeferred = false
    /// Completes when the last response written so far has reached the socket.
    private var lastResponseEnd: EventLoopFuture<Void>?
    /// Runs out when the forwarded request's response has not begun within the request timeout.
    private var responseDeadline: Scheduled<Void>?

    /// Header limits, as Envoy's defaults: beyond them a request gets 431.
    static let decoderLimits: NIOHTTPDecoderLimitConfiguration = {
        var limits = NIOHTTPDecoderLimitConfiguration()
        limits.maxHeaderListSize = 60 * 1024
        limits.maxHeaderFieldSize = 60 * 1024
        limits.maxHeaderFieldCount = 100
        return limits
    }()

    init(connection: RequestDecider) {
        self.connection = connection
        decoder = Self.makeDecoder()
    }

    private static func makeDecoder() -> ByteToMessageHandler<HTTPRequestDecoder> {
        ByteToMessageHandler(
            HTTPRequestDecoder(leftOverBytesStrategy: .forwardBytes, limitConfiguration: decoderLimits))
    }

    /// Adds the codecs and this handler at the end of the client pipeline.
    func install(on channel: Channel) throws {
        try channel.pipeline.syncOperations.addHandlers([encoder, decoder, pipelining, self])
    }

    var isWritable: Bool { context?.channel.isWritable ?? false }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    // MARK: Requests

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            receive(head, context: context)
        case .body(let body):
            if request == .forwarding { sendUpstream(.body(.byteBuffer(body))) }
        case .end(let trailers):
            let forwarded = request == .forwarding
            request = .idle
            guard forwarded else { return }
            sendUpstream(.end(trailers))
            if case .connected(let handler) = upstream { handler.flush() }
            if tunnelPending {
                becomeTunnel()
            } else if let exchange, !exchange.responseStarted, let timeout = exchange.responseTimeout {
                responseDeadline = context.eventLoop.assumeIsolated().scheduleTask(in: TimeAmount(timeout)) {
                    self.responseTimedOut()
                }
            }
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        // A body is written as it is read, and flushed per read, so the upstream's writability (which gates our
        // reads) moves as its socket drains.
        if case .connected(let handler) = upstream { handler.flush() }
        context.fireChannelReadComplete()
    }

    private func receive(_ head: HTTPRequestHead, context: ChannelHandlerContext) {
        if case .closed = upstream {
            // The upstream closed and the client is being closed after it: it gets what a direct client would.
            request = .discarding
            return
        }
        let version = "\(head.version.major).\(head.version.minor)"
        let filter: HTTP1RequestFilter
        switch HTTP1RequestFilter.check(head) {
        case .failure(let rejection):
            connection.logger.info(
                "request refused", metadata: connection.logMetadata.merging(["reason": "\(rejection.reason)"]) { $1 })
            request = .discarding
            closeAfterResponse = true
            let refused = connection.unreadable(
                method: head.method.rawValue, host: head.headers.first(name: "host"), path: head.uri,
                version: version, header: { head.headers.first(name: $0) })
            respondLocally(
                LocalAnswer(status: rejection.status, text: rejection.reason), version: head.version,
                method: head.method, grpc: refused.grpc, closesConnection: true, reporting: refused)
            return
        case .success(let checked):
            filter = checked
        }
        var upstreamIsOpen: Bool {
            if case .connected = upstream { return true }
            return false
        }
        let decided = connection.decide(
            HTTP1RequestFacts(head: filter.head, target: filter.target), version: version,
            waitsForUpstream: !upstreamIsOpen)
        guard case .forward(let record, let responseTimeout) = decided else {
            guard case .answer(let answer, let record) = decided else { return }
            request = .discarding
            // After an upgrade request the parser reads no further request: the connection cannot go on.
            let closes = filter.leavesHTTP || !head.isKeepAlive
            closeAfterResponse = closeAfterResponse || closes
            respondLocally(
                answer, version: head.version, method: head.method, grpc: record.grpc, closesConnection: closes,
                reporting: record)
            return
        }
        request = .forwarding
        var exchange = Exchange(
            request: record, method: head.method, leavesHTTP: filter.leavesHTTP, responseTimeout: responseTimeout)
        closeAfterResponse = closeAfterResponse || !head.isKeepAlive
        let forwarded = filter.forwarded(traceparent: record.trace.traceparent)
        if connection.upstream.retries > 0, filter.isReplayable {
            exchange.replay = forwarded
            exchange.retriesLeft = connection.upstream.retries
        }
        self.exchange = exchange
        sendUpstream(.head(forwarded))
    }

    /// Sends the request again, to another endpoint of the service, when the one it went to failed it before any
    /// of its answer reached the client: with 502 or 503, or by closing. Within `retries` and the retry budget.
    private func retry(because reason: String) -> Bool {
        guard var current = exchange, let head = current.replay, current.retriesLeft > 0, !current.responseStarted,
            request == .idle, let endpoint = connection.record.upstream
        else { return false }
        current.tried.insert(endpoint)
        guard connection.upstream.mayRetry(excluding: current.tried) else { return false }
        current.retriesLeft -= 1
        exchange = current
        connection.logger.info(
            "request retried on another endpoint",
            metadata: connection.logMetadata.merging([
                "endpoint": "\(endpoint.endpoint)", "reason": "\(reason)", "method": "\(head.method)",
                "path": "\(head.uri)",
            ]) { $1 })
        if case .connected(let handler) = upstream { handler.close(abortively: true) }
        upstream = .none
        sendUpstream(.head(head))
        sendUpstream(.end(nil))
        return true
    }

    private func sendUpstream(_ part: HTTPClientRequestPart) {
        switch upstream {
        case .connected(let handler):
            handler.write(part)
        case .connecting(var pending):
            pending.append(part)
            upstream = .connecting(pending: pending)
        case .none:
            upstream = .connecting(pending: [part])
            dial()
        case .closed:
            break
        }
    }

    private func dial() {
        guard let context else { return }
        let handler = HTTP1UpstreamHandler(client: self)
        connection.upstream.connect(on: context.eventLoop, excluding: exchange?.tried ?? []).assumeIsolated()
            .whenComplete { result in
                self.dialed(
                    result.flatMap { channel in
                        do {
                            try handler.install(on: channel)
                            return .success(channel)
                        } catch {
                            channel.close(promise: nil)
                            return .failure(error)
                        }
                    }, handler: handler)
            }
    }

    private func dialed(_ result: Result<Channel, Error>, handler: HTTP1UpstreamHandler) {
        guard case .connecting(let pending) = upstream else {
            // The client went away while the upstream was connecting.
            if case .success(let channel) = result { channel.close(promise: nil) }
            return
        }
        exchange?.request.slot?.upstreamReady()
        switch result {
        case .success(let channel):
            connection.record.upstream = channel.remoteAddress
            upstream = .connected(handler)
            for part in pending { handler.write(part) }
            handler.flush()
            if readDeferred {
                readDeferred = false
                context?.read()
            }
        case .failure(let error):
            upstream = .closed
            connection.logger.info(
                "upstream connect failed", metadata: connection.logMetadata.merging(["error": "\(error)"]) { $1 })
            if request == .forwarding { request = .discarding }
            let failed = exchange
            exchange = nil
            closeAfterResponse = true
            respondLocally(
                .unreachable("\(connection.upstream.destination)"), version: .http1_1, method: failed?.method ?? .GET,
                grpc: failed?.request.grpc ?? false, closesConnection: true, reporting: failed?.request)
        }
    }

    // MARK: Responses

    /// A part of the upstream's response to the forwarded request.
    func upstreamResponded(_ part: HTTPClientResponsePart) {
        guard let context, var current = exchange else { return }
        switch part {
        case .head(var head):
            if head.status.code >= 200 {
                connection.upstream.answered(Int(head.status.code), by: connection.record.upstream)
            }
            if [.badGateway, .serviceUnavailable].contains(head.status), retry(because: "status \(head.status.code)") {
                return
            }
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
                connection.completed(current.request, status: 502)
                closeAfterResponse = true
                if case .connected(let handler) = upstream { handler.close(abortively: true) }
                upstream = .closed
                respondLocally(
                    LocalAnswer(status: 502, text: "upstream response framing not supported"), version: .http1_1,
                    method: current.method, grpc: current.request.grpc, closesConnection: true, reporting: nil)
                return
            }
            if head.status.code >= 200 || head.status == .switchingProtocols {
                responseDeadline?.cancel()
                current.responseStarted = true
                current.status = Int(head.status.code)
            }
            exchange = current
            context.write(wrapOutboundOut(.head(head)), promise: nil)
        case .body(let body):
            context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
        case .end(let trailers):
            exchange = nil
            connection.completed(current.request, status: current.status)
            if current.switchingProtocols {
                context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
                if request == .idle { becomeTunnel() } else { tunnelPending = true }
                return
            }
            // A request that asked to leave HTTP and was answered otherwise: what the client sent after it is read
            // as requests again, each decided on its own; if that cannot be, the connection ends.
            let declined = current.leavesHTTP && !closeAfterResponse && request == .idle
            let closes = closeAfterResponse || (current.leavesHTTP && !declined)
            let written = context.eventLoop.makePromise(of: Void.self)
            lastResponseEnd = written.futureResult
            // May deliver the next pipelined request at once, so the state is settled before.
            context.writeAndFlush(wrapOutboundOut(.end(trailers)), promise: written)
            if closes || (declined && !resumeParsing(context)) { closeOnceWritten(context) }
        }
    }

    /// The upstream declined an upgrade or a CONNECT. The decoder stopped at that request and holds what the client
    /// sent after it, never forwarded: a fresh decoder takes its place, and on removal the old one passes those bytes
    /// to it, to be parsed and decided as requests.
    /// - Returns: false when the pipeline could not be changed.
    private func resumeParsing(_ context: ChannelHandlerContext) -> Bool {
        let fresh = Self.makeDecoder()
        do {
            try context.pipeline.syncOperations.addHandler(fresh, position: .after(decoder))
        } catch {
            return false
        }
        let stopped = decoder
        decoder = fresh
        context.pipeline.syncOperations.removeHandler(stopped, promise: nil)
        return true
    }

    /// The upstream did not begin its response within the request timeout: the client gets 504, and the upstream
    /// connection, which may still answer late, is cut so that answer can never be taken for the next request's.
    private func responseTimedOut() {
        guard let current = exchange, !current.responseStarted else { return }
        connection.logger.info("upstream response timed out", metadata: connection.logMetadata)
        connection.upstream.answered(504, by: connection.record.upstream)
        exchange = nil
        connection.completed(current.request, status: 504)
        if case .connected(let handler) = upstream { handler.close(abortively: true) }
        upstream = .closed
        closeAfterResponse = true
        respondLocally(
            .timedOut, version: .http1_1, method: current.method, grpc: current.request.grpc, closesConnection: true,
            reporting: nil)
    }

    func upstreamReadComplete() {
        context?.flush()
    }

    /// The upstream connection closed. Mid-response, the client must see a truncated exchange as such (a reset);
    /// otherwise the client sees the close the upstream made, after what it already sent.
    func upstreamClosed(abortively: Bool) {
        if let exchange, !exchange.responseStarted, connection.record.upstream != nil {
            connection.upstream.answered(502, by: connection.record.upstream)
            if retry(because: abortively ? "reset" : "closed before answering") { return }
        }
        upstream = .closed
        guard let context else { return }
        if let exchange { connection.completed(exchange.request, status: nil) }
        if let exchange, abortively || exchange.responseStarted {
            context.channel.reset()
        } else {
            closeOnceWritten(context)
        }
    }

    /// Closes once the last response written has reached the socket (writes complete in order), so a client that
    /// reads slowly still gets all of it. One that stops reading is closed by the idle timeout.
    private func closeOnceWritten(_ context: ChannelHandlerContext) {
        guard let lastResponseEnd else {
            context.close(promise: nil)
            return
        }
        lastResponseEnd.assumeIsolated().whenComplete { _ in context.close(promise: nil) }
    }

    func upstreamBecameWritable() {
        guard readDeferred, let context else { return }
        readDeferred = false
        context.read()
    }

    // MARK: Local responses

    /// - Parameters:
    ///   - grpc: the request was a gRPC call, so the answer is a gRPC status.
    ///   - request: reported as answered with the answer's status (nil when already reported).
    private func respondLocally(
        _ answer: LocalAnswer, version: HTTPVersion, method: HTTPMethod, grpc: Bool, closesConnection: Bool,
        reporting request: RequestDecider.Request?
    ) {
        guard let context else { return }
        if let request { connection.completed(request, status: answer.status) }
        lastResponseEnd = answer.write(
            to: context, version: version, method: method, grpc: grpc, closesConnection: closesConnection
        ) { self.wrapOutboundOut($0) }
        if closesConnection { closeOnceWritten(context) }
    }

    // MARK: Tunnel

    /// Turns both sides into a byte relay, after a 101 or for an allowed CONNECT. The HTTP handlers and encoders
    /// leave first, the relay ends take their place, and the decoders go last: on removal they pass on what each
    /// peer sent after its last HTTP message.
    private func becomeTunnel() {
        guard let context, case .connected(let upstreamHandler) = upstream else { return }
        let client = context.channel
        // A tunnel is idle when neither side sent anything for the idle timeout, like any relayed connection; the
        // client's bytes are counted at its socket already.
        let (clientEnd, upstreamEnd) = RelayHandler.matchedPair(
            idleTimeout: TimeAmount(connection.configurations.current.timeouts.idle))
        upstream = .closed
        do {
            guard let upstreamChannel = try upstreamHandler.beginTunnel(relayEnd: upstreamEnd) else {
                client.reset()
                return
            }
            let operations = client.pipeline.syncOperations
            operations.removeHandler(self, promise: nil)
            operations.removeHandler(pipelining, promise: nil)
            operations.removeHandler(encoder, promise: nil)
            // The relay watches idleness from here on; the HTTP exchange's watch would tell no one.
            if let idle = try? operations.handler(type: IdleStateHandler.self) {
                operations.removeHandler(idle, promise: nil)
            }
            try operations.addHandler(clientEnd)
            // The upstream's response decoder watches the requests written past it, so it must be gone before the
            // client's decoder passes on what the client sent after its request.
            let decoder = self.decoder
            upstreamHandler.removeDecoder(from: upstreamChannel).assumeIsolated().flatMap {
                let removed = client.eventLoop.makePromise(of: Void.self)
                client.pipeline.syncOperations.removeHandler(decoder, promise: removed)
                return removed.futureResult
            }.whenComplete { _ in
                // What the decoders passed on was written without a flush; reads the HTTP handlers held back resume.
                for channel in [client, upstreamChannel] {
                    channel.flush()
                    channel.read()
                }
            }
            connection.logger.debug("connection became a tunnel", metadata: connection.logMetadata)
        } catch {
            client.reset()
        }
    }

    // MARK: Connection events

    func read(context: ChannelHandlerContext) {
        switch upstream {
        case .connecting:
            readDeferred = true
        case .connected(let handler) where !handler.isWritable:
            readDeferred = true
        default:
            context.read()
        }
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable, case .connected(let handler) = upstream { handler.clientBecameWritable() }
        context.fireChannelWritabilityChanged()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        switch event {
        case ChannelEvent.inputClosed:
            // No further request will come; the one in flight still gets its response.
            if request == .idle && exchange == nil {
                closeOnceWritten(context)
            } else {
                closeAfterResponse = true
            }
        case is IdleStateHandler.IdleStateEvent:
            context.close(promise: nil)
        default:
            context.fireUserInboundEventTriggered(event)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        // A request that does not parse gets its status when nothing else is under way; the parser stops after it.
        if let parseError = error as? HTTPParserError, exchange == nil, request == .idle {
            connection.logger.info(
                "request refused", metadata: connection.logMetadata.merging(["reason": "\(parseError)"]) { $1 })
            request = .discarding
            closeAfterResponse = true
            let answer =
                parseError == .headerOverflow
                ? LocalAnswer(status: 431, text: "request headers too large")
                : LocalAnswer(status: 400, text: "malformed request")
            // Nothing of the request is known but that it failed; it still counts in the log and the metrics.
            let unparsed = connection.unreadable(method: "", host: nil, path: "", version: "1.1") { _ in nil }
            respondLocally(
                answer, version: .http1_1, method: .GET, grpc: false, closesConnection: true, reporting: unparsed)
            return
        }
        // A reset, or a request that broke off mid-way: the exchange cannot complete.
        if connection.record.failure == nil { connection.record.failure = error }
        if case .connected(let handler) = upstream { handler.close(abortively: true) }
        upstream = .closed
        context.channel.reset()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
        responseDeadline?.cancel()
    }

    func channelInactive(context: ChannelHandlerContext) {
        // A client gone mid-exchange aborted it, and the upstream hears so; between requests, it just closed.
        if case .connected(let handler) = upstream {
            handler.close(abortively: exchange != nil || request == .forwarding)
        }
        upstream = .closed
        context.fireChannelInactive()
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
