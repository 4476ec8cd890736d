import NIOCore

/// Answers each query datagram with one datagram, from the listening socket (so conntrack maps it back to the
/// nameserver address the app asked).
final class DNSDatagramHandler: ChannelInboundHandler {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>
    typealias OutboundOut = AddressedEnvelope<ByteBuffer>
    private let forwarder: DNSForwarder

    init(forwarder: DNSForwarder) {
        self.forwarder = forwarder
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let envelope = unwrapInboundIn(data)
        let client = envelope.remoteAddress
        let answering = forwarder.answer(
            Array(envelope.data.readableBytesView), over: .udp, from: client, on: context.eventLoop)
        answering.assumeIsolated().whenSuccess { reply in
            guard let reply else { return }
            let data = context.channel.allocator.buffer(bytes: reply)
            context.writeAndFlush(
                self.wrapOutboundOut(AddressedEnvelope(remoteAddress: client, data: data)), promise: nil)
        }
    }
}
