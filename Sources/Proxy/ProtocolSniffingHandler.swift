import NIOCore
import Policy

/// Holds a new connection's first bytes until its protocol is known (or the detect timeout passes), for policies
/// that decide on the application protocol. The bytes are kept unchanged, to be sent on to the upstream first.
final class ProtocolSniffingHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer

    /// What was detected, the bytes read so far, and whether the client already half-closed.
    struct Outcome {
        var detected: DetectedProtocol
        var firstBytes: ByteBuffer
        var inputClosed: Bool
    }

    private let timeout: TimeAmount
    private let outcome: EventLoopPromise<Outcome>
    private var buffered: ByteBuffer?
    private var timer: Scheduled<Void>?
    private var decided = false

    init(timeout: TimeAmount, outcome: EventLoopPromise<Outcome>) {
        self.timeout = timeout
        self.outcome = outcome
    }

    func handlerAdded(context: ChannelHandlerContext) {
        buffered = context.channel.allocator.buffer(capacity: 512)
        // Added while the accepted channel is being set up, before it is registered: a read asked for then is
        // lost, so the first one waits for the channel to become active.
        if context.channel.isActive { start(context: context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        start(context: context)
        context.fireChannelActive()
    }

    private func start(context: ChannelHandlerContext) {
        guard timer == nil else { return }
        // Server-speaks-first protocols send nothing until they hear from the server: never stall them.
        timer = context.eventLoop.assumeIsolated().scheduleTask(in: timeout) {
            self.decide(self.detectedSoFar, context: context)
        }
        context.read()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        timer?.cancel()
        if !decided { outcome.fail(ChannelError.ioOnClosedChannel) }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var bytes = unwrapInboundIn(data)
        buffered?.writeBuffer(&bytes)
        guard !decided, let buffered else { return }
        if let detected = ProtocolDetector.detect(Array(buffered.readableBytesView)) {
            decide(detected, context: context)
        } else {
            context.read()
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case ChannelEvent.inputClosed = event {
            inputClosed = true
            decide(detectedSoFar, context: context)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        timer?.cancel()
        if !decided {
            decided = true
            outcome.fail(ChannelError.ioOnClosedChannel)
        }
    }

    private var inputClosed = false

    /// What the bytes so far are, now that no more will be waited for.
    private var detectedSoFar: DetectedProtocol {
        ProtocolDetector.detectAtTimeout(buffered.map { Array($0.readableBytesView) } ?? [])
    }

    private func decide(_ detected: DetectedProtocol, context: ChannelHandlerContext) {
        guard !decided else { return }
        decided = true
        timer?.cancel()
        outcome.succeed(Outcome(detected: detected, firstBytes: buffered ?? ByteBuffer(), inputClosed: inputClosed))
    }
}
