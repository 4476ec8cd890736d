import NIOCore
import Policy

/// Holds a connection's first bytes until they say what the connection speaks (or the detect timeout passes), hands
/// that on once as a `DetectedProtocol`, and replays the held bytes, unchanged, into the pipeline set up for it: the
/// one place where first bytes are read, decided on and put back (the pattern of NIO's
/// `NIOTypedApplicationProtocolNegotiationHandler`).
///
/// A client silent through the timeout (a server-speaks-first protocol, or a client waiting the timeout out) is
/// relayed at once; the handler stays in front of the relay and holds the client's first bytes when they do come,
/// until they too are judged, so that waiting out the timeout never widens what the policy allows.
final class ProtocolDetectionHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    /// What the handler does once the first bytes are known, as whoever they were handed to says.
    enum Next {
        /// The pipeline behind this handler is ready: pass the held bytes (and a half-close) on, and leave.
        case replay
        /// The client sent nothing: stay, hold its first bytes when they come, and ask `judge` whether they may
        /// pass (`judge` closes the connection when they may not).
        case holdLateBytes(judge: (DetectedProtocol) -> Bool)
        /// The connection is being closed: drop what is held.
        case drop
    }

    private enum State {
        /// Holding the first bytes; reads are asked for one at a time.
        case detecting
        /// Silent through the timeout and relayed; the first bytes, once any come, wait for `judge`.
        case awaitingLateBytes(judge: (DetectedProtocol) -> Bool)
        /// The connection is being closed: whatever still arrives goes nowhere.
        case dropped
        /// Replayed; the handler is leaving.
        case done
    }

    private let timeout: TimeAmount
    private let detected: (DetectedProtocol) -> Next
    private var state = State.detecting
    private var detector = ProtocolDetector()
    private var held: ByteBuffer?
    private var inputClosed = false
    /// A drain began while the first bytes were held: the handlers behind are told after the bytes reach them, so a
    /// request already sent is answered (with `Connection: close`, or on a stream before GOAWAY's end).
    private var drainRequested: Bool
    private var timer: Scheduled<Void>?

    /// - Parameters:
    ///   - timeout: how long to wait for bytes that decide, from the first read (and again from a silent
    ///     connection's first late byte).
    ///   - drainRequested: a drain began before the handler was added.
    ///   - detected: called once with what the first bytes are; it sets up the pipeline behind this handler.
    init(timeout: TimeAmount, drainRequested: Bool = false, detected: @escaping (DetectedProtocol) -> Next) {
        self.timeout = timeout
        self.drainRequested = drainRequested
        self.detected = detected
    }

    /// For a connection relayed before any of its bytes were read (a mesh tunnel whose ALPN says `tcp`): its first
    /// bytes, when they come, are held for `judge` as a silent connection's are.
    convenience init(timeout: TimeAmount, judgingLateBytes judge: @escaping (DetectedProtocol) -> Bool) {
        self.init(timeout: timeout) { _ in .drop }
        state = .awaitingLateBytes(judge: judge)
    }

    func handlerAdded(context: ChannelHandlerContext) {
        // Added while the accepted channel is being set up, before it is registered: a read asked for then is lost,
        // so the first one waits for the channel to become active.
        if context.channel.isActive { start(context: context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        start(context: context)
        context.fireChannelActive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        timer?.cancel()
    }

    func channelInactive(context: ChannelHandlerContext) {
        timer?.cancel()
        state = .dropped
        context.fireChannelInactive()
    }

    private func start(context: ChannelHandlerContext) {
        guard timer == nil, case .detecting = state else { return }
        timer = context.eventLoop.assumeIsolated().scheduleTask(in: timeout) {
            self.timedOut(context: context)
        }
        context.read()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var bytes = unwrapInboundIn(data)
        switch state {
        case .detecting:
            hold(&bytes, context: context)
            if let detected = detector.detect(held!.readableBytesView) {
                decide(detected, context: context)
            } else {
                context.read()
            }
        case .awaitingLateBytes(let judge):
            if held == nil {
                // The client may send its first message in pieces: wait for the rest as long as detection would.
                timer = context.eventLoop.assumeIsolated().scheduleTask(in: timeout) {
                    self.timedOut(context: context)
                }
            }
            hold(&bytes, context: context)
            if let detected = detector.detect(held!.readableBytesView) { judgeLate(detected, judge, context: context) }
        case .dropped:
            break
        case .done:
            context.fireChannelRead(data)
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is ChannelShouldQuiesceEvent {
            switch state {
            case .detecting, .awaitingLateBytes: drainRequested = true
            case .dropped: break
            case .done: context.fireUserInboundEventTriggered(event)
            }
            return
        }
        guard case ChannelEvent.inputClosed = event else {
            context.fireUserInboundEventTriggered(event)
            return
        }
        switch state {
        case .detecting:
            inputClosed = true
            decide(detector.detectAtTimeout(heldBytes), context: context)
        case .awaitingLateBytes(let judge) where held != nil:
            inputClosed = true
            judgeLate(detector.detectAtTimeout(heldBytes), judge, context: context)
        case .awaitingLateBytes, .done:
            context.fireUserInboundEventTriggered(event)
        case .dropped:
            break
        }
    }

    private var heldBytes: ByteBufferView { held?.readableBytesView ?? ByteBuffer().readableBytesView }

    private func hold(_ bytes: inout ByteBuffer, context: ChannelHandlerContext) {
        if held == nil {
            held = bytes
        } else {
            held!.writeBuffer(&bytes)
        }
    }

    private func timedOut(context: ChannelHandlerContext) {
        switch state {
        case .detecting:
            decide(detector.detectAtTimeout(heldBytes), context: context)
        case .awaitingLateBytes(let judge):
            judgeLate(detector.detectAtTimeout(heldBytes), judge, context: context)
        case .dropped, .done:
            break
        }
    }

    private func decide(_ protocol: DetectedProtocol, context: ChannelHandlerContext) {
        timer?.cancel()
        timer = nil
        switch detected(`protocol`) {
        case .replay:
            replay(context: context)
        case .holdLateBytes(let judge):
            // A client that half-closed without a byte sends none later: its FIN goes on at once.
            guard !inputClosed else {
                replay(context: context)
                return
            }
            state = .awaitingLateBytes(judge: judge)
            detector = ProtocolDetector()
        case .drop:
            state = .dropped
            held = nil
        }
    }

    private func judgeLate(
        _ protocol: DetectedProtocol, _ judge: (DetectedProtocol) -> Bool, context: ChannelHandlerContext
    ) {
        timer?.cancel()
        timer = nil
        if judge(`protocol`) {
            replay(context: context)
        } else {
            state = .dropped
            held = nil
        }
    }

    /// Passes the held bytes, and a half-close seen while they were held, to the handlers behind, then leaves.
    private func replay(context: ChannelHandlerContext) {
        state = .done
        if let held, held.readableBytes > 0 {
            self.held = nil
            context.fireChannelRead(wrapInboundOut(held))
            context.fireChannelReadComplete()
        }
        if inputClosed { context.fireUserInboundEventTriggered(ChannelEvent.inputClosed) }
        if drainRequested { context.fireUserInboundEventTriggered(ChannelShouldQuiesceEvent()) }
        context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
    }
}
