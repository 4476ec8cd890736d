import NIOCore

/// Turns the flushes an HTTP/2 connection gets within one turn of its event loop into one, at the end of the turn.
/// Every stream's flush is a flush of its connection (each a TLS record and a write of its own), and a relay flushes
/// each stream it wrote to once its partner's read completes: a read that carried frames for sixteen streams would
/// otherwise cost sixteen writes on the other connection where one does. Stands below the HTTP/2 handler.
final class FlushCoalescingHandler: ChannelOutboundHandler {
    typealias OutboundIn = Any

    private var flushPending = false

    func flush(context: ChannelHandlerContext) {
        guard !flushPending else { return }
        flushPending = true
        context.eventLoop.assumeIsolated().execute {
            guard self.flushPending else { return }
            self.flushPending = false
            context.flush()
        }
    }

    /// What was written goes out before the connection closes.
    func close(context: ChannelHandlerContext, mode: CloseMode, promise: EventLoopPromise<Void>?) {
        if flushPending {
            flushPending = false
            context.flush()
        }
        context.close(mode: mode, promise: promise)
    }
}
