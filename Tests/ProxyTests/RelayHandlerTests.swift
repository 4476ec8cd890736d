import NIOCore
import NIOEmbedded
import Testing

@testable import Proxy

/// Drives a relay between two embedded channels: `client` stands for the accepted connection, `upstream` for the
/// connection to the original destination.
@Suite struct RelayHandlerTests {
    /// Sits next to the head of the pipeline and records, in order, what the relay asks of the socket.
    final class SocketRecorder: ChannelOutboundHandler {
        typealias OutboundIn = ByteBuffer
        var events: [String] = []
        var reads: Int { events.filter { $0 == "read" }.count }
        /// While set, writes wait here, as on a socket whose peer reads slowly, until `releaseWrites`.
        var holdsWrites = false
        private var held: [(data: NIOAny, promise: EventLoopPromise<Void>?)] = []
        private var context: ChannelHandlerContext?

        func handlerAdded(context: ChannelHandlerContext) {
            self.context = context
        }

        func releaseWrites() {
            holdsWrites = false
            for (data, promise) in held { context?.write(data, promise: promise) }
            held = []
            context?.flush()
        }

        func read(context: ChannelHandlerContext) {
            events.append("read")
            context.read()
        }

        func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
            let bytes = unwrapOutboundIn(data)
            if bytes.readableBytes > 0 { events.append("write \(String(buffer: bytes))") }
            if holdsWrites {
                held.append((data, promise))
            } else {
                context.write(data, promise: promise)
            }
        }

        func flush(context: ChannelHandlerContext) {
            events.append("flush")
            context.flush()
        }

        func close(context: ChannelHandlerContext, mode: CloseMode, promise: EventLoopPromise<Void>?) {
            events.append("close \(mode)")
            // Embedded channels cannot half-close; record it and report success as a socket would.
            if mode == .output { promise?.succeed(()) } else { context.close(mode: mode, promise: promise) }
        }
    }

    struct Relay {
        let client = EmbeddedChannel()
        let upstream = EmbeddedChannel()
        let clientSocket = SocketRecorder()
        let upstreamSocket = SocketRecorder()

        init(idleTimeout: TimeAmount? = nil) throws {
            let (clientEnd, upstreamEnd) = RelayHandler.matchedPair(idleTimeout: idleTimeout)
            try client.pipeline.syncOperations.addHandlers([clientSocket, clientEnd])
            try upstream.pipeline.syncOperations.addHandlers([upstreamSocket, upstreamEnd])
            let anywhere = try SocketAddress(ipAddress: "192.0.2.1", port: 80)
            try client.connect(to: anywhere).wait()
            try upstream.connect(to: anywhere).wait()
        }

        func finish() {
            _ = try? client.finish(acceptAlreadyClosed: true)
            _ = try? upstream.finish(acceptAlreadyClosed: true)
        }
    }

    @Test func bytesFlowBothWays() throws {
        let relay = try Relay()
        defer { relay.finish() }
        try relay.client.writeInbound(ByteBuffer(string: "request"))
        #expect(try relay.upstream.readOutbound(as: ByteBuffer.self) == ByteBuffer(string: "request"))
        try relay.upstream.writeInbound(ByteBuffer(string: "response"))
        #expect(try relay.client.readOutbound(as: ByteBuffer.self) == ByteBuffer(string: "response"))
    }

    /// A FIN from the client shuts only the upstream's output, after what came before it is flushed; the response
    /// still flows the other way.
    @Test func halfClosePassesThroughAfterThePendingBytes() throws {
        let relay = try Relay()
        defer { relay.finish() }
        // Read without read-complete: the bytes are written to the upstream but not flushed yet.
        relay.client.pipeline.fireChannelRead(ByteBuffer(string: "last words"))
        relay.client.pipeline.fireUserInboundEventTriggered(ChannelEvent.inputClosed)

        #expect(relay.upstreamSocket.events == ["write last words", "flush", "close output"])
        #expect(try relay.upstream.readOutbound(as: ByteBuffer.self) == ByteBuffer(string: "last words"))
        #expect(!relay.clientSocket.events.contains { $0.hasPrefix("close") })
        #expect(relay.client.isActive && relay.upstream.isActive)

        try relay.upstream.writeInbound(ByteBuffer(string: "reply after the FIN"))
        #expect(try relay.client.readOutbound(as: ByteBuffer.self) == ByteBuffer(string: "reply after the FIN"))
    }

    /// Reads on one side stop while the other cannot take more, and resume when it drains.
    @Test func readsWaitWhileThePartnerIsNotWritable() throws {
        let relay = try Relay()
        defer { relay.finish() }
        relay.upstream.isWritable = false
        relay.upstream.pipeline.fireChannelWritabilityChanged()
        let readsBefore = relay.clientSocket.reads
        relay.client.read()
        #expect(relay.clientSocket.reads == readsBefore)

        relay.upstream.isWritable = true
        relay.upstream.pipeline.fireChannelWritabilityChanged()
        #expect(relay.clientSocket.reads == readsBefore + 1)
    }

    /// An orderly close of one side closes the other only after the bytes it still owes have been flushed.
    @Test func anOrderlyCloseFlushesBeforeClosingThePartner() throws {
        let relay = try Relay()
        defer { relay.finish() }
        relay.upstream.pipeline.fireChannelRead(ByteBuffer(string: "tail"))
        relay.upstream.pipeline.fireUserInboundEventTriggered(ChannelEvent.inputClosed)
        try relay.upstream.close().wait()

        #expect(relay.clientSocket.events == ["write tail", "flush", "close output", "close all"])
        #expect(try relay.client.readOutbound(as: ByteBuffer.self) == ByteBuffer(string: "tail"))
        #expect(!relay.client.isActive)
    }

    /// A side that ends on an error (a reset) takes the other down at once: what it still owed is discarded rather
    /// than delivered as if the stream had ended cleanly.
    @Test func anErrorClosesThePartnerWithoutFlushing() throws {
        let relay = try Relay()
        defer { relay.finish() }
        relay.upstream.pipeline.fireChannelRead(ByteBuffer(string: "truncated"))
        relay.upstream.pipeline.fireErrorCaught(ChannelError.ioOnClosedChannel)

        #expect(!relay.client.isActive)
        #expect(!relay.clientSocket.events.contains("flush"))
        #expect(try relay.client.readOutbound(as: ByteBuffer.self) == nil)
    }

    /// A channel that goes away without its peer's FIN (a reset noticed on a write closes it without an error event)
    /// is an abort too: the partner is not flushed as if the stream had ended cleanly.
    @Test func aCloseWithoutAnEndIsAnAbort() throws {
        let relay = try Relay()
        defer { relay.finish() }
        relay.upstream.pipeline.fireChannelRead(ByteBuffer(string: "truncated"))
        try relay.upstream.close().wait()

        #expect(!relay.client.isActive)
        #expect(!relay.clientSocket.events.contains("flush"))
    }

    /// After we passed the client's FIN on, the upstream's EOF closes it outright (NIO sends no input-closed event
    /// then): still an orderly end, so what it sent before is flushed to the client.
    @Test func anEndAfterOurHalfCloseIsOrderly() throws {
        let relay = try Relay()
        defer { relay.finish() }
        relay.client.pipeline.fireUserInboundEventTriggered(ChannelEvent.inputClosed)
        relay.upstream.pipeline.fireUserInboundEventTriggered(ChannelEvent.outputClosed)  // as NIO reports the FIN sent
        relay.upstream.pipeline.fireChannelRead(ByteBuffer(string: "response"))
        try relay.upstream.close().wait()

        #expect(relay.clientSocket.events.contains("flush"))
        #expect(try relay.client.readOutbound(as: ByteBuffer.self) == ByteBuffer(string: "response"))
    }

    /// When our own peer's FIN came first, the partner's FIN still waits for the bytes queued before it: NIO turns an
    /// output close on a channel whose input has ended into a full close, which would discard them.
    @Test func aFINAfterOurPeersOwnFINWaitsForTheQueuedBytes() throws {
        let relay = try Relay()
        defer { relay.finish() }
        relay.client.pipeline.fireUserInboundEventTriggered(ChannelEvent.inputClosed)
        relay.clientSocket.holdsWrites = true
        relay.upstream.pipeline.fireChannelRead(ByteBuffer(string: "late reply"))
        relay.upstream.pipeline.fireChannelReadComplete()
        relay.upstream.pipeline.fireUserInboundEventTriggered(ChannelEvent.inputClosed)
        #expect(!relay.clientSocket.events.contains { $0.hasPrefix("close") })

        relay.clientSocket.releaseWrites()
        #expect(relay.clientSocket.events.last == "close output")
        #expect(try relay.client.readOutbound(as: ByteBuffer.self) == ByteBuffer(string: "late reply"))
    }

    /// A reset found on a write while our FIN was still queued behind pending bytes is an abort, not an end.
    @Test func aCloseBeforeOurFINWentOutIsAnAbort() throws {
        let relay = try Relay()
        defer { relay.finish() }
        relay.client.pipeline.fireUserInboundEventTriggered(ChannelEvent.inputClosed)
        relay.upstream.pipeline.fireChannelRead(ByteBuffer(string: "truncated"))
        try relay.upstream.close().wait()

        #expect(!relay.client.isActive)
        #expect(!relay.clientSocket.events.contains("flush"))
    }

    /// Nothing read either way for the idle timeout: both connections end, within a quarter of it after.
    @Test func anIdleConnectionIsClosedInBothDirections() throws {
        let relay = try Relay(idleTimeout: .seconds(4))
        defer { relay.finish() }
        relay.client.embeddedEventLoop.advanceTime(by: .seconds(3))
        #expect(relay.client.isActive)
        relay.client.embeddedEventLoop.advanceTime(by: .seconds(1))
        relay.upstream.embeddedEventLoop.run()
        #expect(!relay.client.isActive)
        #expect(!relay.upstream.isActive)
    }

    /// Bytes either way keep the connection: only four quiet quarters in a row make it idle.
    @Test func trafficEitherWayKeepsTheConnection() throws {
        let relay = try Relay(idleTimeout: .seconds(4))
        defer { relay.finish() }
        for _ in 0..<3 {
            relay.client.embeddedEventLoop.advanceTime(by: .seconds(3))
            try relay.upstream.writeInbound(ByteBuffer(string: "still here"))
        }
        #expect(relay.client.isActive && relay.upstream.isActive)
        relay.client.embeddedEventLoop.advanceTime(by: .seconds(5))
        #expect(!relay.client.isActive)
    }
}
