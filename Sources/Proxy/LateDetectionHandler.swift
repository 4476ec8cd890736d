import Logging
import NIOCore
import Policy
import Telemetry

/// Watches the first bytes of a connection whose client stayed silent through the detect timeout (a
/// server-speaks-first protocol, or a client waiting the timeout out). The connection already relays as opaque bytes,
/// but its first bytes are still held and read: if they are TLS or HTTP that an SNI or HTTP rule in reach denies,
/// the connection is reset before any of them reaches the upstream. So waiting out the timeout never widens what the
/// policy allows: HTTP rules count here as on a connection that cannot be parsed request by request (deny rules
/// match, allow rules do not).
final class LateDetectionHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    /// What the check needs of the connection, and where a denial is reported.
    struct Check {
        let policy: DirectionPolicy
        let facts: ConnectionFacts
        let timeout: TimeAmount
        let record: ConnectionRecord
        let recorder: TrafficRecorder
        let logger: Logger
        let logMetadata: Logger.Metadata
    }

    private let check: Check
    private var held: ByteBuffer?
    private var timer: Scheduled<Void>?
    private var inputClosed = false

    init(check: Check) {
        self.check = check
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var bytes = unwrapInboundIn(data)
        if held == nil {
            held = bytes
            // The client may send its first message in pieces: wait for the rest as long as detection would.
            timer = context.eventLoop.assumeIsolated().scheduleTask(in: check.timeout) {
                self.decide(context: context, atTimeout: true)
            }
        } else {
            held?.writeBuffer(&bytes)
        }
        decide(context: context, atTimeout: false)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case ChannelEvent.inputClosed = event, held != nil {
            inputClosed = true
            decide(context: context, atTimeout: true)
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        timer?.cancel()
    }

    private func decide(context: ChannelHandlerContext, atTimeout: Bool) {
        guard let held else { return }
        let bytes = Array(held.readableBytesView)
        guard
            let detected = ProtocolDetector.detect(bytes)
                ?? (atTimeout || bytes.count >= Self.maximumHeld ? ProtocolDetector.detectAtTimeout(bytes) : nil)
        else { return }
        timer?.cancel()
        self.held = nil
        let verdict = PolicyEvaluator.verdict(check.policy, for: check.facts, detected: detected, proxiesHTTP: false)
        if case .decided(let decision) = verdict, decision.action == .deny {
            check.record.detected = detected
            check.record.decision = decision
            check.record.outcome = .denied
            check.recorder.denied(
                direction: check.facts.direction.rawValue, source: check.record.source,
                destination: check.record.destination?.description ?? "unknown", request: nil,
                rule: decision.ruleName)
            check.logger.warning(
                "connection denied by policy after the detect timeout",
                metadata: check.logMetadata.merging([
                    "protocol": "\(detected)", "rule": "\(decision.ruleName)",
                    "ruleIndex": "\(decision.ruleIndex.map(String.init) ?? "default")",
                ]) { $1 })
            context.channel.reset()
            return
        }
        context.fireChannelRead(wrapInboundOut(held))
        context.fireChannelReadComplete()
        if inputClosed { context.fireUserInboundEventTriggered(ChannelEvent.inputClosed) }
        context.pipeline.syncOperations.removeHandler(self, promise: nil)
    }

    /// A first message larger than this without a verdict is judged as it stands (a ClientHello fits in 16 KiB).
    private static let maximumHeld = 16 * 1024
}
