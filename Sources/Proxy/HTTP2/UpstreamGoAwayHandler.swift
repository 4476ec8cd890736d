import NIOCore
import NIOHTTP2

/// Watches an upstream HTTP/2 connection for GOAWAY (a connection-level frame, which NIO passes to the connection's
/// own pipeline), so the session stops opening streams on a connection the upstream is retiring, and closes that
/// connection once the last of its streams has ended (counted through NIO's stream delegate). A shared connection
/// also closes once it has carried no stream for its idle timeout.
final class UpstreamGoAwayHandler: ChannelInboundHandler {
    typealias InboundIn = HTTP2Frame

    /// Hands NIO's stream events to the handler, on the connection's event loop.
    struct StreamCount: NIOHTTP2StreamDelegate {
        let handler: NIOLoopBound<UpstreamGoAwayHandler>

        func streamCreated(_ id: HTTP2StreamID, channel: Channel) {
            handler.value.openStreams += 1
            handler.value.idleClose?.cancel()
            handler.value.idleClose = nil
        }

        func streamClosed(_ id: HTTP2StreamID, channel: Channel) {
            handler.value.openStreams -= 1
            handler.value.closeIfRetiredAndIdle()
            handler.value.closeLaterIfIdle()
        }
    }

    private let wentAway: () -> Void
    private var context: ChannelHandlerContext?
    private var openStreams = 0
    private var retired = false
    /// Nil: the connection lives as long as the client connection it serves.
    private let idleTimeout: TimeAmount?
    private var idleClose: Scheduled<Void>?

    init(idleTimeout: TimeAmount? = nil, wentAway: @escaping () -> Void) {
        self.idleTimeout = idleTimeout
        self.wentAway = wentAway
    }

    /// The delegate to configure the connection's HTTP/2 handler with.
    func streamCount(on eventLoop: EventLoop) -> StreamCount {
        StreamCount(handler: NIOLoopBound(self, eventLoop: eventLoop))
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
        idleClose?.cancel()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .goAway = unwrapInboundIn(data).payload, !retired {
            retired = true
            wentAway()
            closeIfRetiredAndIdle()
        }
        context.fireChannelRead(data)
    }

    private func closeIfRetiredAndIdle() {
        guard retired, openStreams <= 0 else { return }
        context?.close(promise: nil)
    }

    private func closeLaterIfIdle() {
        guard let idleTimeout, openStreams <= 0, let context else { return }
        idleClose?.cancel()
        idleClose = context.eventLoop.assumeIsolated().scheduleTask(in: idleTimeout) {
            guard self.openStreams <= 0 else { return }
            self.context?.close(promise: nil)
        }
    }
}
