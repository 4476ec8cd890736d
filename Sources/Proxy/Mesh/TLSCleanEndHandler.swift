import NIOCore
import NIOSSL

/// Sits behind an `NIOSSLHandler` on a mesh connection and makes the peer's end of input one event, `inputClosed`,
/// however it came: a close_notify, or a TCP FIN without one. NIOSSL reports the FIN as `uncleanShutdown` when no
/// close_notify was decoded first, and also, depending on how reads and our own half-close interleave, after one
/// (it is then already closing). The relay would turn either into a reset of the app's connection. Bytes relayed
/// inside the tunnel carry their own framing (HTTP is checked by its codec), so, as Envoy and linkerd2-proxy do, a
/// missing close_notify ends the stream like a FIN instead.
final class TLSCleanEndHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = NIOAny

    private var ended = false

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case ChannelEvent.inputClosed = event {
            guard !ended else { return }
            ended = true
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        // The `inputClosed` NIOSSL fires next ends the input.
        if case NIOSSLError.uncleanShutdown = error { return }
        context.fireErrorCaught(error)
    }
}
