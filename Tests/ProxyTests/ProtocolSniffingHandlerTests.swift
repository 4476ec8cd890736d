import NIOCore
import NIOEmbedded
import Policy
import Testing

@testable import Proxy

@Suite struct ProtocolSniffingHandlerTests {
    static let clientHello: [UInt8] = {
        let hex =
            "160301014e0100014a03036376db100f929a95dfe8bbcd5bc3d8f8352b4423eb39a6c39950189b6146d8372056519c78766aedb2370b8b50f00bfed91e1691efe60d83f7c358f3d942944ede003e130213031301c02cc030009fcca9cca8ccaac02bc02f009ec024c028006bc023c0270067c00ac0140039c009c0130033009d009c003d003c0035002f00ff010000c300000014001200000f6170692e6578616d706c652e636f6d000b000403000102000a00160014001d0017001e0019001801000101010201030104002300000010000e000c02683208687474702f312e310016000000170000000d002a0028040305030603080708080809080a080b080408050806040105010601030303010302040205020602002b0009080304030303020301002d00020101003300260024001d002085313f5f1ad818b863e840f0fcada83bda6fdf06c3a1c0c5320f525191882979"
        var bytes: [UInt8] = []
        var index = hex.startIndex
        while index < hex.endIndex {
            let next = hex.index(index, offsetBy: 2)
            bytes.append(UInt8(hex[index..<next], radix: 16)!)
            index = next
        }
        return bytes
    }()

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
