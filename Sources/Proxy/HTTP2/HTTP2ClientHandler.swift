import NIOCore
import NIOHTTP2

/// One client connection speaking HTTP/2 with prior knowledge, proxied stream by stream: each request is decided on
/// its own stream, and each allowed one is carried on a stream of its own to the original destination (or to the
/// endpoint a service's balancer picks for it), over the connections the event loop shares there
/// (`HTTP2ConnectionPool`). Settings, pings and flow control are each side's own; frames of a request and its response
/// cross unchanged. Sits after the client's `NIOHTTP2Handler`, for the connection's lifetime.
final class HTTP2ClientHandler: ChannelInboundHandler {
    typealias InboundIn = HTTP2Frame

    let connection: RequestDecider
    /// A sidecar's shared connection: streams marked as an app's HTTP/1.1 go to the app as HTTP/1.1.
    let takesApartMeshStreams: Bool

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
        try operations.addHandler(FlushCoalescingHandler())
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

    /// Nothing moved either way for the idle timeout, or the client ended its input (HTTP/2 has no half-closed
    /// connection: a client that sends nothing more is gone, and its streams go with it): end the connection.
    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is IdleStateHandler.IdleStateEvent { context.close(promise: nil) }
        if case ChannelEvent.inputClosed = event { context.close(promise: nil) }
        context.fireUserInboundEventTriggered(event)
    }
}
