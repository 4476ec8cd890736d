import NIOCore

/// Answers each framed query on a TCP connection, in the order the answers come (RFC 7766 allows that).
final class DNSStreamHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer
    private let forwarder: DNSForwarder

    init(forwarder: DNSForwarder) {
        self.forwarder = forwarder
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let client = context.channel.remoteAddress
        let answering = forwarder.answer(
            Array(unwrapInboundIn(data).readableBytesView), over: .tcp, from: client, on: context.eventLoop)
        answering.assumeIsolated().whenSuccess { reply in
            guard let reply else {
                context.close(promise: nil)
                return
            }
            context.writeAndFlush(self.wrapOutboundOut(context.channel.allocator.buffer(bytes: reply)), promise: nil)
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is IdleStateHandler.IdleStateEvent {
            context.close(promise: nil)
        } else {
            context.fireUserInboundEventTriggered(event)
        }
    }
}
