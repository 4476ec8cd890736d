import Logging
import NIOCore

#if canImport(Glibc)
    import Glibc
#endif

/// What a listener does when accepting fails. Running out of descriptors or memory pauses accepting for a second
/// (connections wait in the backlog meanwhile) and is logged as an error, at most once a second; anything else (a
/// client that gave up while queued) concerns that one connection only.
///
/// The pause turns `autoRead` off, which also drops the read NIO still has pending. NIO's `AcceptBackoffHandler`
/// only delays the next read, and when `accept` fails before any connection of the batch was taken, NIO issues no
/// next read: the pending one stays, the socket stays readable, and the event loop retries `accept` in a busy loop
/// (measured: 80,000 failures a second per listener).
final class AcceptFailureHandler: ChannelInboundHandler {
    typealias InboundIn = Channel
    typealias InboundOut = Channel
    private let logger: Logger
    private let role: String
    /// When the last error line was written, and how many failures came since.
    private var lastLogged: NIODeadline?
    private var unlogged = 0
    private var paused = false

    static let pause: TimeAmount = .seconds(1)

    init(logger: Logger, role: String) {
        self.logger = logger
        self.role = role
    }

    static func isOutOfResources(_ error: IOError) -> Bool {
        [EMFILE, ENFILE, ENOBUFS, ENOMEM].contains(error.errnoCode)
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        guard let error = error as? IOError, Self.isOutOfResources(error) else {
            logger.debug("accept failed", metadata: ["listener": "\(role)", "error": "\(error)"])
            return
        }
        unlogged += 1
        pauseAccepting(context)
        let now = NIODeadline.now()
        if let lastLogged, now - lastLogged < .seconds(1) { return }
        lastLogged = now
        logger.error(
            "accept failed; accepting again in a second",
            metadata: ["listener": "\(role)", "error": "\(error)", "failures": "\(unlogged)"])
        unlogged = 0
    }

    private func pauseAccepting(_ context: ChannelHandlerContext) {
        guard !paused, let options = context.channel.syncOptions else { return }
        do {
            try options.setOption(.autoRead, value: false)
        } catch {
            return
        }
        paused = true
        context.eventLoop.assumeIsolated().scheduleTask(in: Self.pause) {
            self.paused = false
            // Fails only once the listener has closed, when there is nothing left to resume.
            try? context.channel.syncOptions?.setOption(.autoRead, value: true)
        }
    }
}
