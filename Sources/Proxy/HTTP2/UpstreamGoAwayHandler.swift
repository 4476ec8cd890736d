import NIOCore
import NIOHTTP2

/// Watches a shared upstream HTTP/2 connection for GOAWAY (a connection-level frame, which NIO passes to the
/// connection's own pipeline), so the pool stops opening streams on a connection the upstream is retiring, and closes
/// that connection once the last of its streams has ended (counted through NIO's stream delegate). It also closes the
/// connection once it has carried no stream for its idle timeout, and when the server ends its input. It keeps the
/// GOAWAY's last stream, which tells a stream the server never processed from one it cancelled.
final class UpstreamGoAwayHandler: ChannelInboundHandler {
    typealias InboundIn = HTTP2Frame

    /// Hands NIO's stream events to the handler, on the connection's event loop.
    struct StreamCount: NIOHTTP2StreamDelegate {
        let handler: NIOLoopBound<UpstreamGoAwayHandler>

        func streamCreated(_ id: HTTP2StreamID, channel: Channel) {
            handler.value.openStreams += 1
        }

        func streamClosed(_ id: HTTP2StreamID, channel: Channel) {
            handler.value.streamClosed()
        }
    }

    private let wentAway: () -> Void
    private var context: ChannelHandlerContext?
    private var openStreams = 0
    private var retired = false
    /// The last stream the server's GOAWAY said it may process: any later one it never did.
    private var lastStreamKept: HTTP2StreamID?
    private let idleTimeout: TimeAmount
    /// When the last stream ended, while none is open.
    private var idleSince: NIODeadline?
    /// One timer per idle spell at most, rather than one set and cancelled per stream.
    private var idleCheck: Scheduled<Void>?

    init(idleTimeout: TimeAmount, wentAway: @escaping () -> Void) {
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
        idleCheck?.cancel()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .goAway(let lastStreamID, _, _) = unwrapInboundIn(data).payload {
            // A second GOAWAY may only lower the last stream (RFC 9113 section 6.8).
            lastStreamKept = min(lastStreamKept ?? lastStreamID, lastStreamID)
            if !retired {
                retired = true
                wentAway()
                closeIfRetiredAndIdle()
            }
        }
        context.fireChannelRead(data)
    }

    /// A server that ends its input without GOAWAY sends nothing more on any stream: the connection is closed, so
    /// the pool never hands out a stream on it.
    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case ChannelEvent.inputClosed = event { context.close(promise: nil) }
        context.fireUserInboundEventTriggered(event)
    }

    /// Whether `error`, which ended `stream` (of a shared upstream connection), says the server never processed the
    /// stream, so that its request may go again (RFC 9113 section 8.7): the server refused it (REFUSED_STREAM), or
    /// it was beyond the last stream the server's GOAWAY kept. NIO closes the latter as cancelled, after passing the
    /// GOAWAY to this handler, so this handler's record tells them from a stream the server cancelled.
    static func refused(_ stream: Channel, by error: Error) -> Bool {
        guard let closed = error as? NIOHTTP2Errors.StreamClosed else { return false }
        switch closed.errorCode {
        case .refusedStream:
            return true
        case .cancel:
            guard let connection = stream.parent,
                let watch = try? connection.pipeline.syncOperations.handler(type: UpstreamGoAwayHandler.self),
                let lastStreamKept = watch.lastStreamKept
            else { return false }
            return closed.streamID > lastStreamKept
        default:
            return false
        }
    }

    private func closeIfRetiredAndIdle() {
        guard retired, openStreams <= 0 else { return }
        context?.close(promise: nil)
    }

    private func streamClosed() {
        openStreams -= 1
        closeIfRetiredAndIdle()
        guard openStreams <= 0 else { return }
        idleSince = .now()
        checkIdleness()
    }

    /// Closes the connection once it has been idle for the timeout, checking again when a stream came and went
    /// meanwhile.
    private func checkIdleness() {
        guard idleCheck == nil, openStreams <= 0, let idleSince, let context else { return }
        let due = idleSince + idleTimeout
        guard NIODeadline.now() < due else {
            context.close(promise: nil)
            return
        }
        idleCheck = context.eventLoop.assumeIsolated().scheduleTask(deadline: due) {
            self.idleCheck = nil
            self.checkIdleness()
        }
    }
}
