import NIOCore

/// One end of a byte relay between two channels on the same event loop (the client's and the upstream's).
///
/// Bytes read on one channel are written to the partner. Reading stops while the partner cannot take more
/// (back-pressure), so a slow reader never makes the proxy buffer without bound. A FIN is passed on as a half-close
/// once everything before it has been written, and the other direction keeps flowing. No locks: both ends share
/// one event loop.
final class RelayHandler: ChannelDuplexHandler {
    typealias InboundIn = NIOAny
    typealias OutboundIn = NIOAny
    typealias OutboundOut = NIOAny

    private var partner: RelayHandler?
    private var context: ChannelHandlerContext?
    /// A read the channel asked for while the partner was not writable; issued when it becomes writable.
    private var readDeferred = false
    /// Completes once the partner's FIN has been passed on (our output shut down after our pending writes).
    private var outputShutDown: EventLoopFuture<Void>?

    private init() {}

    /// Two linked ends: add one to each channel's pipeline.
    static func matchedPair() -> (RelayHandler, RelayHandler) {
        let first = RelayHandler()
        let second = RelayHandler()
        first.partner = second
        second.partner = first
        return (first, second)
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
        self.partner = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        partner?.partnerRead(data)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        partner?.partnerReadComplete()
    }

    func channelInactive(context: ChannelHandlerContext) {
        partner?.partnerClosed()
        context.fireChannelInactive()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? ChannelEvent, event == .inputClosed {
            partner?.partnerReachedEnd()
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        // A read or write error (e.g. a reset) ends this channel; channelInactive then tells the partner.
        context.close(promise: nil)
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable { partner?.partnerBecameWritable() }
        context.fireChannelWritabilityChanged()
    }

    func read(context: ChannelHandlerContext) {
        if partner?.isWritable ?? false {
            context.read()
        } else {
            readDeferred = true
        }
    }

    // MARK: Events from the partner

    private var isWritable: Bool { context?.channel.isWritable ?? false }

    private func partnerRead(_ data: NIOAny) {
        context?.write(data, promise: nil)
    }

    private func partnerReadComplete() {
        context?.flush()
    }

    private func partnerBecameWritable() {
        guard readDeferred, let context else { return }
        readDeferred = false
        context.read()
    }

    /// The partner read a FIN: flush what it sent before, then shut our output down.
    private func partnerReachedEnd() {
        guard outputShutDown == nil, let context else { return }
        outputShutDown = flushPendingWrites(context).assumeIsolated().flatMap { context.close(mode: .output) }
            .nonisolated()
    }

    /// The partner's channel closed: finish our pending writes (and half-close, if one is under way), then close.
    private func partnerClosed() {
        guard let context else { return }
        let finished = outputShutDown ?? flushPendingWrites(context)
        finished.assumeIsolated().whenComplete { _ in context.close(promise: nil) }
    }

    /// Completes once every write issued before it has reached the socket (writes complete in order).
    private func flushPendingWrites(_ context: ChannelHandlerContext) -> EventLoopFuture<Void> {
        let flushed = context.eventLoop.makePromise(of: Void.self)
        context.writeAndFlush(NIOAny(ByteBuffer()), promise: flushed)
        return flushed.futureResult
    }
}
