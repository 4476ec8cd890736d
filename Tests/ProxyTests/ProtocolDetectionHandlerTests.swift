import NIOCore
import NIOEmbedded
import Policy
import TestSupport
import Testing

@testable import Proxy

@Suite struct ProtocolDetectionHandlerTests {
    static let clientHello = CapturedTraffic.clientHello

    /// Collects what reaches the handlers behind the detection handler.
    final class Collector: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer
        var received: [UInt8] = []
        var inputClosed = false
        var drains = 0
        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            received += unwrapInboundIn(data).readableBytesView
        }
        func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
            if case ChannelEvent.inputClosed = event { inputClosed = true }
            if event is ChannelShouldQuiesceEvent { drains += 1 }
        }
    }

    func channel(timeout: TimeAmount, next: @escaping (DetectedProtocol) -> ProtocolDetectionHandler.Next) throws
        -> (EmbeddedChannel, Collector)
    {
        let channel = EmbeddedChannel()
        try channel.connect(to: SocketAddress(ipAddress: "192.0.2.1", port: 443)).wait()
        let collector = Collector()
        try channel.pipeline.syncOperations.addHandler(ProtocolDetectionHandler(timeout: timeout, detected: next))
        try channel.pipeline.syncOperations.addHandler(collector)
        return (channel, collector)
    }

    /// The ClientHello in two reads: detected once, as TLS with its name, then replayed byte for byte, and the handler
    /// leaves the pipeline.
    @Test func aClientHelloInTwoReadsIsDetectedAndReplayedIntact() throws {
        nonisolated(unsafe) var detections: [DetectedProtocol] = []
        let (channel, collector) = try channel(timeout: .seconds(5)) {
            detections.append($0)
            return .replay
        }
        defer { _ = try? channel.finish(acceptAlreadyClosed: true) }
        try channel.writeInbound(ByteBuffer(bytes: Self.clientHello.prefix(100)))
        #expect(detections.isEmpty && collector.received.isEmpty)
        try channel.writeInbound(ByteBuffer(bytes: Self.clientHello.dropFirst(100)))
        #expect(detections == [.tls(serverName: "api.example.com", alpn: ["h2", "http/1.1"])])
        #expect(collector.received == Self.clientHello)
        #expect(throws: ChannelPipelineError.self) {
            try channel.pipeline.syncOperations.handler(type: ProtocolDetectionHandler.self)
        }
        try channel.writeInbound(ByteBuffer(bytes: [1, 2, 3]))
        #expect(collector.received == Self.clientHello + [1, 2, 3])
    }

    /// A request's first byte, then the timeout: undecided, never opaque, and nothing passes when it is dropped.
    @Test func aPrefixOfARequestAtTheTimeoutIsUndecided() throws {
        nonisolated(unsafe) var detections: [DetectedProtocol] = []
        let (channel, collector) = try channel(timeout: .milliseconds(300)) {
            detections.append($0)
            return .drop
        }
        defer { _ = try? channel.finish(acceptAlreadyClosed: true) }
        try channel.writeInbound(ByteBuffer(string: "G"))
        channel.embeddedEventLoop.advanceTime(by: .milliseconds(299))
        #expect(detections.isEmpty)
        channel.embeddedEventLoop.advanceTime(by: .milliseconds(1))
        #expect(detections == [.undecided])
        try channel.writeInbound(ByteBuffer(string: "ET /admin HTTP/1.1\r\n\r\n"))
        #expect(collector.received.isEmpty)
    }

    /// Nothing within the timeout: silent, so a server that speaks first is not kept waiting. The client's first
    /// bytes, when they come, are held until judged; bytes judged allowed pass whole, with the half-close after them.
    @Test func silenceThenLateBytesAreJudgedBeforeTheyPass() throws {
        nonisolated(unsafe) var judged: [DetectedProtocol] = []
        let (channel, collector) = try channel(timeout: .milliseconds(300)) { detected in
            #expect(detected == .silent)
            return .holdLateBytes {
                judged.append($0)
                return true
            }
        }
        defer { _ = try? channel.finish(acceptAlreadyClosed: true) }
        channel.embeddedEventLoop.advanceTime(by: .milliseconds(300))
        try channel.writeInbound(ByteBuffer(string: "EHLO mail"))
        #expect(judged.isEmpty && collector.received.isEmpty)
        try channel.writeInbound(ByteBuffer(string: ".test\r\n"))
        #expect(judged == [.opaque])
        #expect(collector.received == Array("EHLO mail.test\r\n".utf8))
    }

    /// Late bytes a deny rule stops never reach the handlers behind; they were judged once, as what they are.
    @Test func lateBytesJudgedDeniedNeverPass() throws {
        nonisolated(unsafe) var judged: [DetectedProtocol] = []
        let (channel, collector) = try channel(timeout: .milliseconds(300)) { _ in
            .holdLateBytes {
                judged.append($0)
                return false
            }
        }
        defer { _ = try? channel.finish(acceptAlreadyClosed: true) }
        channel.embeddedEventLoop.advanceTime(by: .milliseconds(300))
        try channel.writeInbound(ByteBuffer(string: "GET"))
        channel.embeddedEventLoop.advanceTime(by: .milliseconds(300))
        try channel.writeInbound(ByteBuffer(string: " /admin HTTP/1.1\r\n\r\n"))
        #expect(collector.received.isEmpty)
        #expect(judged == [.undecided], "GET, then the detect timeout")
    }

    /// A client that half-closes without a byte: its FIN goes on at once, it does not wait for late bytes.
    @Test func aSilentHalfCloseGoesOn() throws {
        let (channel, collector) = try channel(timeout: .milliseconds(300)) { detected in
            #expect(detected == .silent)
            return .holdLateBytes { _ in
                Issue.record("no bytes to judge")
                return false
            }
        }
        defer { _ = try? channel.finish(acceptAlreadyClosed: true) }
        channel.pipeline.fireUserInboundEventTriggered(ChannelEvent.inputClosed)
        #expect(collector.inputClosed)
    }

    /// A drain that begins while the first bytes are held is passed on after them, once.
    @Test func aDrainDuringDetectionFollowsTheBytesOnce() throws {
        let (channel, collector) = try channel(timeout: .seconds(5)) { _ in .replay }
        defer { _ = try? channel.finish(acceptAlreadyClosed: true) }
        try channel.writeInbound(ByteBuffer(string: "GET /a"))
        channel.pipeline.fireUserInboundEventTriggered(ChannelShouldQuiesceEvent())
        #expect(collector.drains == 0, "held with the bytes")
        try channel.writeInbound(ByteBuffer(string: " HTTP/1.1\r\n\r\n"))
        #expect(collector.drains == 1 && collector.received == Array("GET /a HTTP/1.1\r\n\r\n".utf8))
        channel.pipeline.fireUserInboundEventTriggered(ChannelShouldQuiesceEvent())
        #expect(collector.drains == 2, "once the handler has left, events pass straight through")
    }

    /// A half-close during detection decides with what came, and follows the replayed bytes.
    @Test func aHalfCloseDecidesAndFollowsTheBytes() throws {
        nonisolated(unsafe) var detections: [DetectedProtocol] = []
        let (channel, collector) = try channel(timeout: .seconds(5)) {
            detections.append($0)
            return .replay
        }
        defer { _ = try? channel.finish(acceptAlreadyClosed: true) }
        try channel.writeInbound(ByteBuffer(string: "GET /a"))
        channel.pipeline.fireUserInboundEventTriggered(ChannelEvent.inputClosed)
        #expect(detections == [.undecided])
        #expect(collector.received == Array("GET /a".utf8) && collector.inputClosed)
    }
}
