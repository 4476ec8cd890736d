import NIOCore
import NIOEmbedded
import NIOHTTP1
import Testing

@testable import Proxy

/// The observer passes every byte on as it came and reads the requests among them, keep-alive and split anywhere,
/// with a form or JSON body's first bytes when asked. What it cannot read is reported, except a tunnel's bytes after
/// a request that left HTTP; a declined upgrade is read on.
@Suite struct HTTP1RequestObserverTests {
    final class Seen {
        var requests: [(target: String, body: String?)] = []
        var unreadable: [String] = []
    }

    func channel(bodyBytes: Int? = nil, _ seen: Seen) throws -> EmbeddedChannel {
        let observer = HTTP1RequestObserver(
            bodyBytesToInspect: { request in request.header("content-type") == "application/json" ? bodyBytes : nil },
            inspect: { request, body in
                seen.requests.append((request.target.asSent, body.map { String(decoding: $0, as: UTF8.self) }))
            },
            unreadable: { seen.unreadable.append($0) })
        return EmbeddedChannel(handler: observer)
    }

    /// Writes `stream` in chunks of `size` and returns what the observer passed on.
    func send(_ stream: String, in size: Int, to channel: EmbeddedChannel) throws -> String {
        var rest = Substring(stream)
        while !rest.isEmpty {
            try channel.writeInbound(ByteBuffer(string: String(rest.prefix(size))))
            rest = rest.dropFirst(size)
        }
        var text = ""
        while let buffer = try channel.readInbound(as: ByteBuffer.self) { text += String(buffer: buffer) }
        return text
    }

    @Test func readsKeepAliveRequestsSplitAnywhere() throws {
        let seen = Seen()
        let stream =
            "GET /a?x=1 HTTP/1.1\r\nHost: h\r\n\r\n"
            + "POST /b HTTP/1.1\r\nHost: h\r\nContent-Type: application/json\r\nContent-Length: 20\r\n\r\n"
            + #"{"q":"1 union xxxx"}"#
            + "POST /c HTTP/1.1\r\nHost: h\r\nContent-Type: text/plain\r\nContent-Length: 3\r\n\r\nabc"
            + "GET /d HTTP/1.1\r\nHost: h\r\n\r\n"
        #expect(try send(stream, in: 7, to: channel(bodyBytes: 8, seen)) == stream)
        #expect(seen.requests.map(\.target) == ["/a?x=1", "/b", "/c", "/d"])
        #expect(seen.requests.map(\.body) == [nil, #"{"q":"1 "#, nil, nil])
        #expect(seen.unreadable.isEmpty)
    }

    /// Malformed bytes are reported once, and the reading ends there.
    @Test func bytesThatDoNotParseAreReported() throws {
        let seen = Seen()
        let stream = "GET /a HTTP/1.1\r\nHost: h\r\n\r\n\u{01}\u{02} x\r\n\r\nGET /b HTTP/1.1\r\nHost: h\r\n\r\n"
        #expect(try send(stream, in: 1000, to: channel(seen)) == stream)
        #expect(seen.requests.map(\.target) == ["/a"])
        #expect(seen.unreadable.count == 1)
        #expect(seen.unreadable.first?.hasPrefix("bytes that are not HTTP/1.1") == true)
    }

    /// A target the parser takes but the proxy would refuse (user information in the authority) is reported, and
    /// the requests after it read.
    @Test func aTargetThatDoesNotParseIsReported() throws {
        let seen = Seen()
        let stream = "GET http://user@h/ HTTP/1.1\r\nHost: h\r\n\r\nGET /b HTTP/1.1\r\nHost: h\r\n\r\n"
        #expect(try send(stream, in: 1000, to: channel(seen)) == stream)
        #expect(seen.requests.map(\.target) == ["/b"])
        #expect(seen.unreadable == ["request target http://user@h/"])
    }

    /// An upgrade the server declines leaves HTTP going on: the request sent right behind it is read.
    @Test func aDeclinedUpgradeIsReadOn() throws {
        let seen = Seen()
        let stream =
            "GET /ws HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n"
            + "GET /after?q=1 HTTP/1.1\r\nHost: h\r\n\r\n"
        #expect(try send(stream, in: 1000, to: channel(seen)) == stream)
        #expect(seen.requests.map(\.target) == ["/ws", "/after?q=1"])
        #expect(seen.unreadable.isEmpty)
    }

    /// After an upgrade or a CONNECT the server agreed to, the tunnel's bytes are not HTTP, and not reported.
    @Test func anAgreedTunnelIsNotReported() throws {
        let seen = Seen()
        let stream =
            "CONNECT db.internal:5432 HTTP/1.1\r\nHost: db.internal:5432\r\n\r\n\u{16}\u{03}\u{01}\u{00}\u{05}hello"
        #expect(try send(stream, in: 13, to: channel(seen)) == stream)
        #expect(seen.requests.map(\.target) == ["db.internal:5432"])
        #expect(seen.unreadable.isEmpty)
    }
}
