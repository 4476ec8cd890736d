import NIOCore
import NIOEmbedded
import NIOHTTP1
import Testing

@testable import Proxy

/// The observer passes every byte on as it came and reads the requests among them, keep-alive and split anywhere,
/// with a form or JSON body's first bytes when asked; what it cannot parse ends the reading, not the bytes.
@Suite struct HTTP1RequestObserverTests {
    final class Seen {
        var requests: [(target: String, body: String?)] = []
    }

    func channel(bodyBytes: Int?, _ seen: Seen) throws -> EmbeddedChannel {
        let observer = HTTP1RequestObserver(
            bodyBytesToInspect: { request in request.header("content-type") == "application/json" ? bodyBytes : nil },
            inspect: { request, body in
                seen.requests.append((request.target.asSent, body.map { String(decoding: $0, as: UTF8.self) }))
            })
        return EmbeddedChannel(handler: observer)
    }

    func passed(_ channel: EmbeddedChannel) throws -> String {
        var text = ""
        while let buffer = try channel.readInbound(as: ByteBuffer.self) { text += String(buffer: buffer) }
        return text
    }

    @Test func readsKeepAliveRequestsSplitAnywhere() throws {
        let seen = Seen()
        let channel = try channel(bodyBytes: 8, seen)
        let stream =
            "GET /a?x=1 HTTP/1.1\r\nHost: h\r\n\r\n"
            + "POST /b HTTP/1.1\r\nHost: h\r\nContent-Type: application/json\r\nContent-Length: 20\r\n\r\n"
            + #"{"q":"1 union xxxx"}"#
            + "POST /c HTTP/1.1\r\nHost: h\r\nContent-Type: text/plain\r\nContent-Length: 3\r\n\r\nabc"
            + "GET /d HTTP/1.1\r\nHost: h\r\n\r\n"
        var rest = Substring(stream)
        while !rest.isEmpty {
            let chunk = rest.prefix(7)
            rest = rest.dropFirst(7)
            try channel.writeInbound(ByteBuffer(string: String(chunk)))
        }
        #expect(try passed(channel) == stream)
        #expect(seen.requests.map(\.target) == ["/a?x=1", "/b", "/c", "/d"])
        #expect(seen.requests.map(\.body) == [nil, #"{"q":"1 "#, nil, nil])
    }

    @Test func whatDoesNotParseEndsTheReadingNotTheBytes() throws {
        let seen = Seen()
        let channel = try channel(bodyBytes: nil, seen)
        let stream = "GET /a HTTP/1.1\r\nHost: h\r\n\r\n\u{01}\u{02} not http\r\n\r\nGET /b HTTP/1.1\r\nHost: h\r\n\r\n"
        try channel.writeInbound(ByteBuffer(string: stream))
        #expect(try passed(channel) == stream)
        #expect(seen.requests.map(\.target) == ["/a"])
    }
}
