import NIOCore
import NIOHTTP2

/// Watches an upstream HTTP/2 connection for GOAWAY (a connection-level frame, which NIO passes to the connection's
/// own pipeline), so the session stops opening streams on a connection the upstream is retiring.
final class UpstreamGoAwayHandler: ChannelInboundHandler {
    typealias InboundIn = HTTP2Frame

    private let wentAway: () -> Void

    init(wentAway: @escaping () -> Void) {
        self.wentAway = wentAway
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .goAway = unwrapInboundIn(data).payload { wentAway() }
        context.fireChannelRead(data)
    }
}
