import NIOCore

/// First in the pipeline of a client proxied request by request: counts the bytes the client sends and receives into
/// its record, at the socket, whatever the HTTP handlers make of them (a byte relay counts in `RelayHandler`, which
/// every chunk passes anyway). One addition per read and per write.
final class ByteCountingHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundIn = IOData
    typealias OutboundOut = IOData

    private let record: ConnectionRecord

    init(record: ConnectionRecord) {
        self.record = record
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        record.bytesReceived += unwrapInboundIn(data).readableBytes
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        record.bytesSent += unwrapOutboundIn(data).readableBytes
        context.write(data, promise: promise)
    }
}
