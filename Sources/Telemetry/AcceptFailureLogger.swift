import Logging
import NIOCore

#if canImport(Glibc)
    import Glibc
#endif

/// Logs a listener's failed accepts. Running out of descriptors or memory is an error, and `AcceptBackoffHandler`
/// (before this in the pipeline) then pauses accepting for a second; anything else (a client that gave up while
/// queued) concerns that one connection only.
final class AcceptFailureLogger: ChannelInboundHandler {
    typealias InboundIn = Channel
    private let logger: Logger
    private let role: String

    init(logger: Logger, role: String) {
        self.logger = logger
        self.role = role
    }

    static func isOutOfResources(_ error: IOError) -> Bool {
        [EMFILE, ENFILE, ENOBUFS, ENOMEM].contains(error.errnoCode)
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        if let error = error as? IOError, Self.isOutOfResources(error) {
            logger.error(
                "accept failed; accepting again in a second", metadata: ["listener": "\(role)", "error": "\(error)"])
        } else {
            logger.debug("accept failed", metadata: ["listener": "\(role)", "error": "\(error)"])
        }
    }
}
