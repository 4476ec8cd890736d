import NIOCore
import NIOExtras
import NIOPosix

/// One query to one nameserver and its answer, over a socket of its own (a fresh source port per query, which an
/// off-path forger must guess along with the id).
enum DNSUpstreamExchange {
    enum Failure: Error {
        case timedOut
        case unexpectedAnswer
        case closedWithoutAnswer
    }

    static func overUDP(
        _ query: [UInt8], id: UInt16, to server: SocketAddress, timeout: TimeAmount, on eventLoop: EventLoop
    ) -> EventLoopFuture<[UInt8]> {
        let answer = eventLoop.makePromise(of: [UInt8].self)
        DatagramBootstrap(group: eventLoop)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(
                        DatagramAnswerHandler(id: id, server: server, answer: answer))
                }
            }
            .bind(host: server.protocol == .inet6 ? "::" : "0.0.0.0", port: 0)
            .whenComplete { result in
                switch result {
                case .success(let channel):
                    let data = channel.allocator.buffer(bytes: query)
                    channel.writeAndFlush(AddressedEnvelope(remoteAddress: server, data: data), promise: nil)
                    finish(answer, closing: channel, after: timeout)
                case .failure(let error):
                    answer.fail(error)
                }
            }
        return answer.futureResult
    }

    static func overTCP(
        _ query: [UInt8], id: UInt16, to server: SocketAddress, timeout: TimeAmount, on eventLoop: EventLoop
    ) -> EventLoopFuture<[UInt8]> {
        let answer = eventLoop.makePromise(of: [UInt8].self)
        ClientBootstrap(group: eventLoop)
            .connectTimeout(timeout)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandlers([
                        ByteToMessageHandler(LengthFieldBasedFrameDecoder(lengthFieldBitLength: .twoBytes)),
                        LengthFieldPrepender(lengthFieldBitLength: .twoBytes),
                        StreamAnswerHandler(id: id, answer: answer),
                    ])
                }
            }
            .connect(to: server)
            .whenComplete { result in
                switch result {
                case .success(let channel):
                    channel.writeAndFlush(channel.allocator.buffer(bytes: query), promise: nil)
                    finish(answer, closing: channel, after: timeout)
                case .failure(let error):
                    answer.fail(error)
                }
            }
        return answer.futureResult
    }

    /// Fails the answer once the timeout passes, and closes the socket whichever way the exchange ends.
    private static func finish(_ answer: EventLoopPromise<[UInt8]>, closing channel: Channel, after timeout: TimeAmount)
    {
        let deadline = channel.eventLoop.scheduleTask(in: timeout) { answer.fail(Failure.timedOut) }
        answer.futureResult.whenComplete { _ in
            deadline.cancel()
            channel.close(promise: nil)
        }
    }

    /// Takes the first datagram from the nameserver that answers our id; anything else is ignored.
    private final class DatagramAnswerHandler: ChannelInboundHandler {
        typealias InboundIn = AddressedEnvelope<ByteBuffer>
        let id: UInt16
        let server: SocketAddress
        let answer: EventLoopPromise<[UInt8]>

        init(id: UInt16, server: SocketAddress, answer: EventLoopPromise<[UInt8]>) {
            self.id = id
            self.server = server
            self.answer = answer
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let envelope = unwrapInboundIn(data)
            let bytes = Array(envelope.data.readableBytesView)
            guard envelope.remoteAddress == server, bytes.count >= 2, UInt16(bytes[0]) << 8 | UInt16(bytes[1]) == id
            else { return }
            answer.succeed(bytes)
        }
    }

    private final class StreamAnswerHandler: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer
        let id: UInt16
        let answer: EventLoopPromise<[UInt8]>

        init(id: UInt16, answer: EventLoopPromise<[UInt8]>) {
            self.id = id
            self.answer = answer
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let bytes = Array(unwrapInboundIn(data).readableBytesView)
            guard bytes.count >= 2, UInt16(bytes[0]) << 8 | UInt16(bytes[1]) == id else { return }
            answer.succeed(bytes)
        }

        func channelInactive(context: ChannelHandlerContext) {
            answer.fail(Failure.closedWithoutAnswer)
            context.fireChannelInactive()
        }
    }
}
