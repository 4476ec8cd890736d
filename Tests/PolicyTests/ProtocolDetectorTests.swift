import Policy
import TestSupport
import Testing

@Suite struct ProtocolDetectorTests {
    static let clientHello = CapturedTraffic.clientHello

    @Test func aWholeClientHelloGivesItsServerNameAndALPN() {
        #expect(
            ClientHelloParser.parse(Self.clientHello)
                == .clientHello(serverName: "api.example.com", alpn: ["h2", "http/1.1"]))
        #expect(
            ProtocolDetector.detect(Self.clientHello) == .tls(serverName: "api.example.com", alpn: ["h2", "http/1.1"]))
    }

    /// Split at every point, as TCP may deliver it: undecided until the last byte, then the same answer.
    @Test func aClientHelloSplitAnywhereWaitsForTheRest() {
        for cut in 1..<Self.clientHello.count {
            #expect(ClientHelloParser.parse(Array(Self.clientHello.prefix(cut))) == .needMoreData, "cut at \(cut)")
        }
    }

    /// The same handshake message split over several TLS records (allowed by RFC 8446 §5.1).
    @Test func aClientHelloSplitOverRecordsIsReassembled() {
        let handshake = Array(Self.clientHello.dropFirst(5))
        var records: [UInt8] = []
        for start in stride(from: 0, to: handshake.count, by: 100) {
            let fragment = handshake[start..<min(start + 100, handshake.count)]
            records += [22, 3, 1, UInt8(fragment.count >> 8), UInt8(fragment.count & 0xff)] + fragment
        }
        #expect(
            ClientHelloParser.parse(records) == .clientHello(serverName: "api.example.com", alpn: ["h2", "http/1.1"]))
    }

    @Test(arguments: [
        ("GET / HTTP/1.1\r\nHost: a\r\n\r\n", DetectedProtocol?.some(.http1)),
        ("DELETE /admin?x=1 HTTP/1.0\r\n", .some(.http1)),
        ("GET / HTT", nil),
        ("GET", nil),
        ("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", .some(.http2)),
        ("PRI * HTTP/2.0\r\n", nil),
        ("SSH-2.0-OpenSSH_9.2\r\n", .some(.opaque)),
        ("GET  / HTTP/1.1\r\n", .some(.opaque)),
        ("get / HTTP/2.0\r\n", .some(.opaque)),
        ("\u{0}\u{1}\u{2}", .some(.opaque)),
    ])
    func httpAndOpaque(text: String, expected: DetectedProtocol?) {
        #expect(ProtocolDetector.detect(Array(text.utf8)) == expected)
    }

    @Test func malformedTLSIsOpaqueNotACrash() {
        var truncatedLength = Self.clientHello
        truncatedLength[5 + 4 + 2 + 32] = 0xff  // a session id longer than the message
        #expect(ClientHelloParser.parse(truncatedLength) == .notTLS)
        #expect(ClientHelloParser.parse([22, 9, 9, 0, 1, 1]) == .notTLS)
        #expect(ClientHelloParser.parse([22, 3, 1, 0, 4, 2, 0, 0, 0]) == .notTLS)
    }

    /// Random input, and random damage to a real ClientHello, for a bounded time: an answer every time, never a crash.
    @Test func fuzzTheSniffers() {
        var generator = SystemRandomNumberGenerator()
        let deadline = ContinuousClock.now + .seconds(2)
        var runs = 0
        while ContinuousClock.now < deadline {
            var input = Self.clientHello
            if runs % 2 == 0 {
                input = (0..<Int.random(in: 0...600, using: &generator)).map { _ in
                    UInt8.random(in: 0...255, using: &generator)
                }
                if runs % 4 == 0, !input.isEmpty { input[0] = 22 }
            } else {
                for _ in 0..<Int.random(in: 1...8, using: &generator) {
                    input[Int.random(in: 0..<input.count, using: &generator)] = UInt8.random(
                        in: 0...255, using: &generator)
                }
                input = Array(input.prefix(Int.random(in: 0...input.count, using: &generator)))
            }
            _ = ProtocolDetector.detect(input)
            _ = HTTPPrefaceSniffer.sniff(input)
            runs += 1
        }
        #expect(runs > 1000)
    }

    /// A TLS record begun but cut off by the detect timeout is TLS with an unknown name, not opaque.
    @Test func aClientHelloCutOffIsTLSWithAnUnknownName() {
        #expect(ProtocolDetector.detectAtTimeout(Array(Self.clientHello.prefix(40))) == .tls(serverName: nil, alpn: []))
        #expect(ProtocolDetector.detectAtTimeout([]) == .opaque)
        #expect(ProtocolDetector.detectAtTimeout(Array("GET / HT".utf8)) == .opaque)
    }

    /// ALPN ids are arbitrary bytes: unprintable ones are kept (escaped), the server name still read.
    @Test func unprintableALPNIsKept() throws {
        var hello = Self.clientHello
        let h2 = try #require(hello.firstRange(of: [2, 0x68, 0x32]))
        hello[h2.lowerBound + 1] = 1
        hello[h2.lowerBound + 2] = 2
        #expect(
            ClientHelloParser.parse(hello)
                == .clientHello(serverName: "api.example.com", alpn: ["\\x1\\x2", "http/1.1"]))
    }
}
