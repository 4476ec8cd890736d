import AllocationCounter
import Foundation
import Logging
import NIOCore
import NIOPosix
import Policy
import Proxy
import Telemetry

/// Counts the heap allocations the relay makes per chunk in steady state, on the proxy's own event-loop threads.
///
/// The proxy runs as in production (`ProxyService`: capture listeners, forwarder, policy, records, metrics), with
/// one thing made up: every connection's original destination is an echo server in this process. The app, on an
/// event loop of its own, sends 16 KiB chunks one at a time and waits for each to come back, so every chunk is one read
/// and one write on each side of the relay. Allocations on the proxy's threads during the measured chunks, divided by
/// the chunks relayed (both ways), is the figure. Build in release (`-c release`): a debug build allocates for
/// accessors the optimizer would inline.
///
/// Run it as root in a network namespace of its own: it binds the proxy's default ports. Prints one JSON line.
@main
struct RelayAllocations {
    static let chunk = ByteBuffer(repeating: 0x5a, count: 16 * 1024)
    static let warmUpChunks = 2000
    static let measuredChunks = 10_000

    /// What the run prints, as one JSON line for scripts/bench.
    struct Report: Encodable {
        let chunks: Int
        let chunk_bytes: Int
        let empty_window: Int
        let ping_pong_window: Int
        let stream_window: Int
        let stream_mib: Int
        let allocations_per_chunk: Double
        let allocations_per_streamed_mib: Double
    }

    /// The original destination, as netfilter would give it: here, always the echo server.
    struct FixedDestination: OriginalDestinationReader {
        let address: SocketAddress
        func originalDestination(of channel: Channel) -> EventLoopFuture<OriginalDestination> {
            channel.eventLoop.makeSucceededFuture(OriginalDestination(address: address))
        }
    }

    /// The upstream: writes back everything it reads.
    final class Echo: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer
        typealias OutboundOut = ByteBuffer

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            context.write(data, promise: nil)
        }

        func channelReadComplete(context: ChannelHandlerContext) {
            context.flush()
        }
    }

    /// The app: either sends a chunk, and the next once the previous one is back (ping-pong), or waits for chunks it
    /// wrote at once to come back (stream).
    final class App: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer
        typealias OutboundOut = ByteBuffer
        private var received = 0
        private var expected = 0
        private var toSend = 0
        private var done: EventLoopPromise<Void>?

        func pingPong(_ chunks: Int, on context: ChannelHandlerContext, done: EventLoopPromise<Void>) {
            start(expecting: chunks, done: done)
            toSend = chunks - 1
            context.writeAndFlush(wrapOutboundOut(chunk), promise: nil)
        }

        func stream(_ chunks: Int, done: EventLoopPromise<Void>) {
            start(expecting: chunks, done: done)
        }

        private func start(expecting chunks: Int, done: EventLoopPromise<Void>) {
            received = 0
            expected = chunks * chunk.readableBytes
            self.done = done
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let before = received
            received += unwrapInboundIn(data).readableBytes
            if toSend > 0, received / chunk.readableBytes > before / chunk.readableBytes {
                toSend -= 1
                context.writeAndFlush(wrapOutboundOut(chunk), promise: nil)
            }
            if received >= expected, let done {
                self.done = nil
                done.succeed(())
            }
        }
    }

    static func main() async throws {
        let appGroup = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let echo = try await ServerBootstrap(group: appGroup)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(Echo()) }
            }
            .bind(host: "127.0.0.1", port: 0).get()

        var logger = Logger(label: "relay-allocations")
        logger.logLevel = .warning
        let configuration = ProxyConfiguration()
        let configurations = ConfigurationStore(configuration)
        let listening = appGroup.next().makePromise(of: Void.self)
        guard let echoAddress = echo.localAddress else { fatalError("the echo server has no address") }
        let recorder = TrafficRecorder(accessLog: nil)
        let proxy = ProxyService(
            configurations: configurations, reader: FixedDestination(address: echoAddress),
            registry: ConnectionRegistry(), services: ServiceDirectory(configurations: configurations, logger: logger),
            names: NameAddressBook(), mesh: MeshCredentials(nil),
            intrusion: IntrusionMonitor(recorder: recorder, logger: logger), recorder: recorder, logger: logger,
            onReady: { listening.succeed(()) }, onDrain: {})
        let serving = Task { try await proxy.run() }
        try await listening.futureResult.get()

        let app = try await ClientBootstrap(group: appGroup)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(App()) }
            }
            .connect(host: "127.0.0.1", port: configuration.listeners.outbound).get()

        // Warm-up, both ways of sending: buffers, pools and metric handles reach their working size.
        try await pingPong(app, chunks: warmUpChunks)
        try await stream(app, chunks: warmUpChunks)
        // Reading the counters allocates by itself (a task and a promise per thread): an empty window shows how much.
        let empty = try await allocations {}
        let pingPonged = try await allocations { try await pingPong(app, chunks: measuredChunks) }
        // Streaming: every chunk written at once, so reads and writes overlap and back-pressure comes into play.
        let streamed = try await allocations { try await stream(app, chunks: measuredChunks) }

        // Each chunk is relayed twice: from the app to the upstream, and back. What a window holds beyond the empty
        // one is the relay's; streamed, the bytes come in reads of up to 64 KiB, so they are counted per MiB.
        let relayed = 2 * measuredChunks
        let streamedMiB = relayed * chunk.readableBytes / (1024 * 1024)
        let report = Report(
            chunks: relayed, chunk_bytes: chunk.readableBytes, empty_window: empty, ping_pong_window: pingPonged,
            stream_window: streamed, stream_mib: streamedMiB,
            allocations_per_chunk: Double(max(0, pingPonged - empty)) / Double(relayed),
            allocations_per_streamed_mib: Double(max(0, streamed - empty)) / Double(streamedMiB))
        print(String(decoding: try JSONEncoder().encode(report), as: UTF8.self))
        try await app.close()
        serving.cancel()
        try? await serving.value
        try await echo.close()
        try await appGroup.shutdownGracefully()
    }

    /// Sends `chunks` chunks one after the other, each once the previous one is back.
    static func pingPong(_ app: Channel, chunks: Int) async throws {
        try await app.eventLoop.flatSubmit { () -> EventLoopFuture<Void> in
            let done = app.eventLoop.makePromise(of: Void.self)
            do {
                let context = try app.pipeline.syncOperations.context(handlerType: App.self)
                try app.pipeline.syncOperations.handler(type: App.self).pingPong(chunks, on: context, done: done)
            } catch {
                return app.eventLoop.makeFailedFuture(error)
            }
            return done.futureResult
        }.get()
    }

    /// Writes `chunks` chunks at once and returns when all of them are back.
    static func stream(_ app: Channel, chunks: Int) async throws {
        try await app.eventLoop.flatSubmit { () -> EventLoopFuture<Void> in
            let done = app.eventLoop.makePromise(of: Void.self)
            do {
                try app.pipeline.syncOperations.handler(type: App.self).stream(chunks, done: done)
            } catch {
                return app.eventLoop.makeFailedFuture(error)
            }
            for _ in 0..<chunks { app.write(chunk, promise: nil) }
            app.flush()
            return done.futureResult
        }.get()
    }

    /// Allocations on the proxy's event-loop threads (the group `ProxyService` listens on) while `body` runs.
    static func allocations(during body: @Sendable () async throws -> Void) async throws -> Int {
        let before = try await proxyThreadAllocations()
        try await body()
        return try await proxyThreadAllocations() - before
    }

    static func proxyThreadAllocations() async throws -> Int {
        var total = 0
        for loop in MultiThreadedEventLoopGroup.singleton.makeIterator() {
            total += Int(try await loop.submit { allocation_counter_thread_total() }.get())
        }
        return total
    }
}
