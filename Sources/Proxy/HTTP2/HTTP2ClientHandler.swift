import NIOCore
import NIOHTTP2

/// One client connection speaking HTTP/2 with prior knowledge, proxied stream by stream: each request is decided on
/// its own stream, and the allowed ones are carried over a single upstream HTTP/2 connection to the original
/// destination, opened for the first of them. Settings, pings and flow control are each side's own; frames of a
/// request and its response cross unchanged. Sits after the client's `NIOHTTP2Handler`, for the connection's
/// lifetime.
final class HTTP2ClientHandler: ChannelInboundHandler {
    typealias InboundIn = HTTP2Frame

    /// An upstream stream asked for before the upstream connection was up.
    private struct WaitingStream {
        let relayEnd: HTTP2StreamRelay
        let opened: (Result<Channel, Error>) -> Void
    }

    private enum Upstream {
        case none
        case connecting([WaitingStream])
        case connected(NIOHTTP2Handler.StreamMultiplexer)
        /// The client connection closed.
        case closed
    }

    let connection: RequestDecider
    /// A sidecar's shared connection: streams marked as an app's HTTP/1.1 go to the app as HTTP/1.1.
    let takesApartMeshStreams: Bool
    private var upstream = Upstream.none
    private var upstreamChannel: Channel?
    private var upstreamMultiplexer: NIOHTTP2Handler.StreamMultiplexer?
    /// Upstream connections that sent GOAWAY: they take no new stream, and finish the ones they carry.
    private var retiring: [ObjectIdentifier: Channel] = [:]
    private var context: ChannelHandlerContext?

    init(connection: RequestDecider, takesApartMeshStreams: Bool = false) {
        self.connection = connection
        self.takesApartMeshStreams = takesApartMeshStreams
    }

    /// Adds the HTTP/2 server side, with a gate on every stream the client opens, and this handler after it.
    func install(on client: Channel) throws {
        let session = NIOLoopBound(self, eventLoop: client.eventLoop)
        let operations = client.pipeline.syncOperations
        // A drain (ChannelShouldQuiesceEvent) becomes GOAWAY, and the connection closes once its streams are done,
        // so a client never meets a reset on a connection it reuses. The drain timeout bounds it. It counts the
        // streams through NIO's stream delegate.
        let management = NIOHTTP2ServerConnectionManagementHandler(
            eventLoop: client.eventLoop,
            configuration: .init(maxIdleTime: nil, maxAge: nil, maxGraceTime: nil, keepalive: nil))
        _ = try operations.configureHTTP2Pipeline(
            mode: .server, connectionConfiguration: Self.connectionConfiguration, streamConfiguration: .init(),
            streamDelegate: management.http2StreamDelegate
        ) { stream in
            stream.eventLoop.makeCompletedFuture {
                try stream.pipeline.syncOperations.addHandler(HTTP2RequestGate(session: session.value))
            }
        }
        try operations.addHandler(management)
        try operations.addHandler(self)
    }

    /// Header lists up to 60 KiB, as for HTTP/1.1; the rest is NIO's defaults (100 concurrent streams).
    private static var connectionConfiguration: NIOHTTP2Handler.ConnectionConfiguration {
        var configuration = NIOHTTP2Handler.ConnectionConfiguration()
        configuration.initialSettings = [
            HTTP2Setting(parameter: .maxConcurrentStreams, value: 100),
            HTTP2Setting(parameter: .maxHeaderListSize, value: 60 * 1024),
        ]
        return configuration
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
    }

    /// Whether a stream opened now goes out at once, without waiting for the upstream connection.
    var isUpstreamOpen: Bool {
        if case .connected = upstream { return true }
        return false
    }

    /// Opens a stream on the upstream connection with `relayEnd` in its pipeline, connecting first if need be.
    func openUpstreamStream(
        with relayEnd: HTTP2StreamRelay, opened: @escaping (Result<Channel, Error>) -> Void
    ) {
        switch upstream {
        case .connected(let multiplexer):
            createStream(on: multiplexer, with: relayEnd, opened: opened)
        case .connecting(var waiting):
            waiting.append(WaitingStream(relayEnd: relayEnd, opened: opened))
            upstream = .connecting(waiting)
        case .none:
            upstream = .connecting([WaitingStream(relayEnd: relayEnd, opened: opened)])
            dial()
        case .closed:
            opened(.failure(ChannelError.ioOnClosedChannel))
        }
    }

    private func createStream(
        on multiplexer: NIOHTTP2Handler.StreamMultiplexer, with relayEnd: HTTP2StreamRelay,
        opened: @escaping (Result<Channel, Error>) -> Void
    ) {
        guard let context else { return opened(.failure(ChannelError.ioOnClosedChannel)) }
        let end = NIOLoopBound(relayEnd, eventLoop: context.eventLoop)
        multiplexer.createStreamChannel { stream in
            stream.eventLoop.makeCompletedFuture { try stream.pipeline.syncOperations.addHandler(end.value) }
        }.assumeIsolated().whenComplete(opened)
    }

    private func dial() {
        guard let context else { return }
        connection.upstream.connect(on: context.eventLoop).assumeIsolated().whenComplete { result in
            self.dialed(
                result.flatMap { channel in
                    do {
                        let session = NIOLoopBound(self, eventLoop: channel.eventLoop)
                        let goAway = UpstreamGoAwayHandler { session.value.upstreamWentAway(channel) }
                        // The upstream never gets to open streams of its own: a push is refused at once.
                        self.upstreamMultiplexer = try channel.pipeline.syncOperations.configureHTTP2Pipeline(
                            mode: .client, connectionConfiguration: .init(), streamConfiguration: .init(),
                            streamDelegate: goAway.streamCount(on: channel.eventLoop)
                        ) { pushed in
                            pushed.close()
                        }
                        try channel.pipeline.syncOperations.addHandler(goAway)
                        return .success(channel)
                    } catch {
                        channel.close(promise: nil)
                        return .failure(error)
                    }
                })
        }
    }

    private func dialed(_ result: Result<Channel, Error>) {
        guard case .connecting(let waiting) = upstream else {
            if case .success(let channel) = result { channel.close(promise: nil) }
            return
        }
        switch (result, upstreamMultiplexer) {
        case (.success(let channel), let multiplexer?):
            upstream = .connected(multiplexer)
            upstreamChannel = channel
            connection.record.upstream = channel.remoteAddress
            // Its streams are reset with it (their relays pass the reset on); the next stream dials again.
            channel.closeFuture.assumeIsolated().whenComplete { _ in self.upstreamClosed(channel) }
            for stream in waiting { createStream(on: multiplexer, with: stream.relayEnd, opened: stream.opened) }
        case (.failure(let error), _):
            connection.logger.info(
                "upstream connect failed", metadata: connection.logMetadata.merging(["error": "\(error)"]) { $1 })
            // The streams that waited get 502; a later one dials again (the upstream may be back by then).
            upstream = .none
            for stream in waiting { stream.opened(.failure(error)) }
        case (.success(let channel), nil):
            channel.close(promise: nil)
            upstream = .none
            for stream in waiting { stream.opened(.failure(ChannelError.inappropriateOperationForState)) }
        }
    }

    /// The upstream sent GOAWAY: streams opened from now on go to a new upstream connection (RFC 9113 §6.8), while
    /// those it carries finish on it.
    private func upstreamWentAway(_ channel: Channel) {
        guard upstreamChannel === channel else { return }
        connection.logger.debug(
            "upstream sent GOAWAY: new streams go to a new connection", metadata: connection.logMetadata)
        retiring[ObjectIdentifier(channel)] = channel
        upstreamChannel = nil
        upstreamMultiplexer = nil
        if case .connected = upstream { upstream = .none }
    }

    private func upstreamClosed(_ channel: Channel) {
        retiring[ObjectIdentifier(channel)] = nil
        guard upstreamChannel === channel else { return }
        upstreamChannel = nil
        upstreamMultiplexer = nil
        if case .connected = upstream { upstream = .none }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        // Nothing moved either way for the idle timeout: end the connection.
        if event is IdleStateHandler.IdleStateEvent { context.close(promise: nil) }
        context.fireUserInboundEventTriggered(event)
    }

    func channelInactive(context: ChannelHandlerContext) {
        upstreamChannel?.close(promise: nil)
        upstreamChannel = nil
        for channel in retiring.values { channel.close(promise: nil) }
        retiring = [:]
        upstream = .closed
        context.fireChannelInactive()
    }
}
