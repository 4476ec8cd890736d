import NIOCore
import NIOEmbedded
import Policy
import TestSupport
import Testing

@testable import Proxy

@Suite struct ProtocolSniffingHandlerTests {
    static let clientHello = CapturedTraffic.clientHello

    /// The ClientHello in two reads: detected as TLS with its name, and handed on byte for byte.
    @Test func aClientHelloInTwoReadsIsDetectedAndKeptIntact() throws {
        let channel = EmbeddedChannel()
        defer { _ = try? channel.finish(acceptAlreadyClosed: true) }
        try channel.connect(to: SocketAddress(ipAddress: "192.0.2.1", port: 443)).wait()
        let outcome = channel.eventLoop.makePromise(of: ProtocolSniffingHandler.Outcome.self)
        try channel.pipeline.syncOperations.addHandler(ProtocolSniffingHandler(timeout: .seconds(5), outcome: outcome))
        nonisolated(unsafe) var result: ProtocolSniffingHandler.Outcome?
        outcome.futureResult.whenSuccess { result = $0 }

        try channel.writeInbound(ByteBuffer(bytes: Self.clientHello.prefix(100)))
        #expect(result == nil)
        try channel.writeInbound(ByteBuffer(bytes: Self.clientHello.dropFirst(100)))
        let sniffed = try #require(result)
        #expect(sniffed.detected == .tls(serverName: "api.example.com", alpn: ["h2", "http/1.1"]))
        #expect(Array(sniffed.firstBytes.readableBytesView) == Self.clientHello)
        #expect(!sniffed.inputClosed)
    }

    /// Nothing within the timeout: opaque, so a server that speaks first is not kept waiting.
    @Test func silenceIsOpaqueAfterTheTimeout() throws {
        let channel = EmbeddedChannel()
        defer { _ = try? channel.finish(acceptAlreadyClosed: true) }
        try channel.connect(to: SocketAddress(ipAddress: "192.0.2.1", port: 443)).wait()
        let outcome = channel.eventLoop.makePromise(of: ProtocolSniffingHandler.Outcome.self)
        try channel.pipeline.syncOperations.addHandler(
            ProtocolSniffingHandler(timeout: .milliseconds(300), outcome: outcome))
        nonisolated(unsafe) var result: ProtocolSniffingHandler.Outcome?
        outcome.futureResult.whenSuccess { result = $0 }
        channel.embeddedEventLoop.advanceTime(by: .milliseconds(299))
        #expect(result == nil)
        channel.embeddedEventLoop.advanceTime(by: .milliseconds(1))
        #expect(result?.detected == .opaque)
        #expect(result?.firstBytes.readableBytes == 0)
    }
}
