import Logging
import NIOCore

/// Logs a listener's failed accepts, which `AcceptBackoffHandler` (before it in the pipeline) spaces a second apart.
final class AcceptFailureLogger: ChannelInboundHandler {
    typealias InboundIn = Channel
    private let logger: Logger
    private let role: String

    init(logger: Logger, role: String) {
        self.logger = logger
        self.role = role
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        logger.error(
            "accept failed; accepting again in a second", metadata: ["listener": "\(role)", "error": "\(error)"])
    }
}
