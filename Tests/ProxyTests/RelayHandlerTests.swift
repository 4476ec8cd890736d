import NIOCore
import NIOEmbedded
import Testing

@testable import Proxy

/// Drives a relay between two embedded channels: `client` stands for the accepted connection, `upstream` for the
/// connection to the original destination.
@Suite struct RelayHandlerTests {
    /// Sits next to the head of the pipeline and records what the relay asks of the socket.
    final class SocketRecorder: ChannelOutboundHandler {
        typealias OutboundIn = NIOAny
        var reads = 0
        var closeModes: [CloseMode] = []

        func read(context: ChannelHandlerContext) {
            reads += 1
            context.read()
        }

        func close(context: ChannelHandlerContext, mode: CloseMode, promise: EventLoopPromise<Void>?) {
            closeModes.append(mode)
            // Embedded channels cannot half-close; record it and report success as a socket would.
            if mode == .output { promise?.succeed(()) } else { context.close(mode: mode, promise: promise) }
        }
    }

    struct Relay {
        let client = EmbeddedChannel()
        let upstream = EmbeddedChannel()
        let clientSocket = SocketRecorder()
        let upstreamSocket = SocketRecorder()

        init() throws {
            let (clientEnd, upstreamEnd) = RelayHandler.matchedPair()
            try client.pipeline.syncOperations.addHandlers([clientSocket, clientEnd])
            try upstream.pipeline.syncOperations.addHandlers([upstreamSocket, upstreamEnd])
            let anywhere = try SocketAddress(ipAddress: "192.0.2.1", port: 80)
            try client.connect(to: anywhere).wait()
            try upstream.connect(to: anywhere).wait()
        }
    }

    @Test func bytesFlowBothWays() throws {
        let relay = try Relay()
        try relay.client.writeInbound(ByteBuffer(string: "request"))
        #expect(try relay.upstream.readOutbound(as: ByteBuffer.self) == ByteBuffer(string: "request"))
        try relay.upstream.writeInbound(ByteBuffer(string: "response"))
        #expect(try relay.client.readOutbound(as: ByteBuffer.self) == ByteBuffer(string: "response"))
    }

    /// A FIN from the client shuts only the upstream's output, after what came before it; the response still flows.
    @Test func halfClosePassesThroughAndTheOtherDirectionKeepsFlowing() throws {
        let relay = try Relay()
        try relay.client.writeInbound(ByteBuffer(string: "last words"))
        relay.client.pipeline.fireUserInboundEventTriggered(ChannelEvent.inputClosed)
        #expect(try relay.upstream.readOutbound(as: ByteBuffer.self) == ByteBuffer(string: "last words"))
        #expect(relay.upstreamSocket.closeModes == [.output])
        #expect(relay.clientSocket.closeModes.isEmpty)
        #expect(relay.client.isActive && relay.upstream.isActive)

        try relay.upstream.writeInbound(ByteBuffer(string: "reply after the FIN"))
        #expect(try relay.client.readOutbound(as: ByteBuffer.self) == ByteBuffer(string: "reply after the FIN"))
    }

    /// Reads on one side stop while the other cannot take more, and resume when it drains.
    @Test func readsWaitWhileThePartnerIsNotWritable() throws {
        let relay = try Relay()
        relay.upstream.isWritable = false
        relay.upstream.pipeline.fireChannelWritabilityChanged()
        let readsBefore = relay.clientSocket.reads
        relay.client.read()
        #expect(relay.clientSocket.reads == readsBefore)

        relay.upstream.isWritable = true
        relay.upstream.pipeline.fireChannelWritabilityChanged()
        #expect(relay.clientSocket.reads == readsBefore + 1)
    }

    @Test func closingOneSideClosesTheOtherAfterItsPendingWrites() throws {
        let relay = try Relay()
        try relay.upstream.writeInbound(ByteBuffer(string: "tail"))
        try relay.upstream.close().wait()
        #expect(try relay.client.readOutbound(as: ByteBuffer.self) == ByteBuffer(string: "tail"))
        #expect(relay.clientSocket.closeModes == [.all])
        #expect(!relay.client.isActive)
    }
}
