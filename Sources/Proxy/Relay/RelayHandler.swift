import NIOCore

/// One end of a byte relay between two channels on the same event loop (the client's and the upstream's).
///
/// Bytes read on one channel are written to the partner. Reading stops while the partner cannot take more
/// (back-pressure), so a slow reader never makes the proxy buffer without bound. A FIN is passed on as a half-close
/// once everything before it has been written, and the other direction keeps flowing; a reset is passed on as a
/// reset, so a truncated stream never looks complete. No locks: both ends share one event loop.
///
/// The upstream's end joins its pipeline once the upstream is connected (`Upstream` hands every channel over
/// connected, a service's endpoint tried in turn or the original destination alike): what the client's end passes
/// before then (bytes, a FIN, a close) is held and replayed in order as it joins.
final class RelayHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = NIOAny
    typealias OutboundOut = NIOAny

    private var partner: RelayHandler?
    private var context: ChannelHandlerContext?
    /// The connection's record and which of its counts this end's reads add to: the client's end counts what the
    /// client sent, the upstream's end what the client is sent. Counted here, where every chunk passes anyway.
    private var tally: (record: ConnectionRecord, fromClient: Bool)?
    /// A read the channel asked for while the partner was not writable; issued when it becomes writable.
    private var readDeferred = false
    /// Completes once the partner's FIN has been passed on (our output shut down after our pending writes).
    private var outputShutDown: EventLoopFuture<Void>?
    /// This channel's peer sent its FIN: an end of stream, not an abort.
    private var sawEnd = false
    /// This side closed the channel itself (its partner closed, or it went idle).
    private var closingLocally = false
    /// This channel ended on an error (typically a reset by its peer) rather than an orderly close.
    private var endedWithError = false

    /// Our FIN went out: NIO reported the output shut down (only after everything before it was written).
    private var sentEnd = false

    /// What the partner passed before this end was in a pipeline: its bytes, whether its peer's FIN came, and
    /// whether its channel closed (the value: whether abortively).
    private var heldBack: [NIOAny] = []
    private var heldEnd = false
    private var heldClose: Bool?

    /// On the end that watches for idleness: how long neither side may read anything. Checked a quarter of it at a
    /// time against `moved`, a flag each end sets per read, rather than by timing every read and write as
    /// `IdleStateHandler` does (a clock read per read, a promise per write).
    private var idleTimeout: TimeAmount?
    private var moved = false
    private var quietChecks = 0
    /// A scheduled callback rather than a task: it allocates no promise each quarter.
    private var idleCheck: NIOScheduledCallback?

    /// A channel that went away without an orderly end and without our asking was cut off: a reset noticed on a write
    /// closes the channel without an error event. An orderly end is the peer's FIN, or, once our own FIN went out,
    /// the EOF that NIO then turns straight into a full close without an input-closed event.
    private var endedAbortively: Bool {
        endedWithError || !(sawEnd || closingLocally || sentEnd)
    }

    /// Once the partner has closed, how long our pending bytes may take to drain to a peer that stopped reading.
    static let flushDeadline: TimeAmount = .seconds(10)

    private init() {}

    /// Two linked ends: add the first to the client's pipeline and the second to the upstream's. With `record`, they
    /// count the bytes each way into it; with `idleTimeout`, the first closes both once neither read for that long.
    static func matchedPair(countingInto record: ConnectionRecord? = nil, idleTimeout: TimeAmount? = nil) -> (
        RelayHandler, RelayHandler
    ) {
        let first = RelayHandler()
        let second = RelayHandler()
        first.partner = second
        second.partner = first
        first.tally = record.map { ($0, true) }
        second.tally = record.map { ($0, false) }
        first.idleTimeout = idleTimeout
        return (first, second)
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        scheduleIdleCheck(context)
        guard !heldBack.isEmpty || heldEnd || heldClose != nil else { return }
        for data in heldBack { context.write(data, promise: nil) }
        heldBack = []
        context.flush()
        if heldEnd { partnerReachedEnd() }
        if let abortively = heldClose { partnerClosed(abortively: abortively) }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        idleCheck?.cancel()
        self.context = nil
        self.partner = nil
    }

    private func scheduleIdleCheck(_ context: ChannelHandlerContext) {
        guard let idleTimeout else { return }
        // Fails only while the event loop shuts down, which closes the connection anyway.
        idleCheck = try? context.eventLoop.assumeIsolated().scheduleCallback(
            in: .nanoseconds(idleTimeout.nanoseconds / 4), handler: self)
    }

    /// Four quiet quarters in a row: the connection has been idle for the timeout (at most a quarter more).
    private func checkIdle() {
        guard let context else { return }
        if moved || partner?.moved == true {
            quietChecks = 0
        } else {
            quietChecks += 1
        }
        moved = false
        partner?.moved = false
        guard quietChecks < 4 else {
            closingLocally = true
            context.close(promise: nil)
            return
        }
        scheduleIdleCheck(context)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        moved = true
        if let tally {
            let count = unwrapInboundIn(data).readableBytes
            if tally.fromClient { tally.record.bytesReceived += count } else { tally.record.bytesSent += count }
        }
        partner?.partnerRead(data)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        partner?.partnerReadComplete()
    }

    func channelInactive(context: ChannelHandlerContext) {
        partner?.partnerClosed(abortively: endedAbortively)
        context.fireChannelInactive()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        switch event {
        case ChannelEvent.inputClosed:
            sawEnd = true
            partner?.partnerReachedEnd()
        case ChannelEvent.outputClosed:
            sentEnd = true
        default:
            break
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        // A read or write error (e.g. a reset) ends this channel; channelInactive then tells the partner.
        endedWithError = true
        if let record = tally?.record, record.failure == nil { record.failure = error }
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
        guard let context else {
            heldBack.append(data)
            return
        }
        context.write(data, promise: nil)
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
        guard let context else {
            heldEnd = true
            return
        }
        guard outputShutDown == nil else { return }
        if context.channel.isActive, !sawEnd {
            // NIO shuts the output down once every write before it has reached the socket.
            context.flush()
            let shutDown = context.eventLoop.makePromise(of: Void.self)
            context.close(mode: .output, promise: shutDown)
            outputShutDown = shutDown.futureResult
        } else {
            // Still connecting (a shutdown would abort the connect), or our peer's FIN came first (NIO would close
            // the channel at once, discarding what is still queued): wait for our writes to reach the socket first.
            outputShutDown = flushPendingWrites(context).assumeIsolated().flatMap { context.close(mode: .output) }
                .nonisolated()
        }
    }

    /// The partner's channel closed. After a reset, reset ours too, discarding what is pending, as the partner's
    /// peer did. After an orderly close, finish our pending writes (and half-close, if one is under way), then close;
    /// a peer that stops reading gets `flushDeadline` before the connection is closed anyway.
    private func partnerClosed(abortively: Bool) {
        guard let context else {
            heldClose = abortively
            return
        }
        if abortively {
            closingLocally = true
            context.channel.reset()
            return
        }
        closingLocally = true
        if context.channel.isActive, (try? context.channel.syncOptions?.getOption(.bufferedWritableBytes)) == 0 {
            // Connected, with nothing left to deliver (and a half-close asked for has gone out): the usual case,
            // with no timer.
            context.close(promise: nil)
            return
        }
        let finished = outputShutDown ?? flushPendingWrites(context)
        let deadline = context.eventLoop.assumeIsolated().scheduleTask(in: Self.flushDeadline) {
            context.close(promise: nil)
        }
        finished.assumeIsolated().whenComplete { _ in
            deadline.cancel()
            context.close(promise: nil)
        }
    }

    /// Completes once every write issued before it has reached the socket (writes complete in order).
    private func flushPendingWrites(_ context: ChannelHandlerContext) -> EventLoopFuture<Void> {
        let flushed = context.eventLoop.makePromise(of: Void.self)
        context.writeAndFlush(NIOAny(ByteBuffer()), promise: flushed)
        return flushed.futureResult
    }
}

extension RelayHandler: NIOScheduledCallbackHandler {
    func handleScheduledCallback(eventLoop: some EventLoop) {
        checkIdle()
    }
}
