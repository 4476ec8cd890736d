import Policy
import TestSupport
import Testing

@Suite struct ProtocolDetectorTests {
    static let clientHello = CapturedTraffic.clientHello

    @Test func aWholeClientHelloGivesItsServerNameAndALPN() {
        #expect(
            ClientHelloParser.parse(Self.clientHello)
                == .clientHello(serverName: "api.example.com", alpn: ["h2", "http/1.1"]))
        #expect(detect(Self.clientHello) == .tls(serverName: "api.example.com", alpn: ["h2", "http/1.1"]))
    }

    /// Split at every point, as TCP may deliver it: undecided until the last byte, then the same answer.
    @Test func aClientHelloSplitAnywhereWaitsForTheRest() {
        for cut in 1..<Self.clientHello.count {
            guard case .needMoreData(let atLeast) = ClientHelloParser.parse(Array(Self.clientHello.prefix(cut))) else {
                Issue.record("cut at \(cut) decided")
                continue
            }
            #expect(atLeast > cut && atLeast <= Self.clientHello.count, "cut at \(cut)")
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
        ("G", nil),
        ("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", .some(.http2)),
        ("PRI * HTTP/2.0\r\n", nil),
        ("SSH-2.0-OpenSSH_9.2\r\n", .some(.opaque)),
        ("\u{0}\u{1}\u{2}", .some(.opaque)),
        // What a lenient server still reads as a request (RFC 9112 §2.2, §3): never opaque.
        ("GET  / HTTP/1.1\r\n", .some(.http1)),
        ("GET\t/admin\tHTTP/1.1\r\n", .some(.http1)),
        ("GET\u{0B}/admin\u{0C}HTTP/1.1\r\n", .some(.http1)),
        ("\r\n\r\nGET /admin HTTP/1.1\r\n", .some(.http1)),
        ("  GET /admin HTTP/1.1\r\n", .some(.http1)),
        ("get / HTTP/2.0\r\n", .some(.http1)),
        ("GET /admin http/1.1\r\n", .some(.http1)),
        ("GET /ad min HTTP/1.1\r\n", .some(.http1)),
        ("GET /ad min\r\n", .some(.opaque)),
        ("GET /admin\r\n", .some(.http1)),
        // Lines of other protocols that only look like words: not HTTP.
        ("EHLO mail.example.com\r\n", .some(.opaque)),
        ("SET key value\r\n", .some(.opaque)),
        ("a1 LOGIN user secret\r\n", .some(.opaque)),
        ("PING\r\n", .some(.opaque)),
        ("GET\r\n", .some(.opaque)),
        ("GET /x HTTPS/1.1\r\n", .some(.opaque)),
        // A PROXY protocol v1 line before a request: the request decides.
        ("PROXY TCP4 10.0.0.1 10.0.0.2 5000 80\r\nGET /admin HTTP/1.1\r\n", .some(.http1)),
        ("PROXY TCP4 10.0.0.1 10.0.0.2 5000 22\r\nSSH-2.0-x\r\n", .some(.opaque)),
        ("PROXY TCP4 10.0.0.1 10.0.0.2 5000 80\r\nPROXY TCP4 1 2 3 4\r\n", .some(.opaque)),
    ])
    func httpAndOpaque(text: String, expected: DetectedProtocol?) {
        #expect(detect(Array(text.utf8)) == expected)
        // The same a byte at a time: the resumed detector reads only what each call adds.
        var detector = ProtocolDetector()
        let bytes = Array(text.utf8)
        var answer: DetectedProtocol?
        for end in 1...bytes.count where answer == nil {
            answer = detector.detect(bytes.prefix(end))
        }
        #expect(answer == expected)
    }

    /// A PROXY protocol v2 header (binary) before a request is skipped: the request decides.
    @Test func aProxyV2HeaderIsSkipped() {
        let header: [UInt8] =
            [0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A, 0x21, 0x11, 0, 12]
            + [10, 0, 0, 1, 10, 0, 0, 2, 0x13, 0x88, 0, 80]
        #expect(detect(header + Array("GET /admin HTTP/1.1\r\n".utf8)) == .http1)
        #expect(detect(Array(header.prefix(10))) == nil)
        var detector = ProtocolDetector()
        #expect(detector.detectAtTimeout(header) == .undecided)
    }

    /// A request line longer than the sniffer waits for is still HTTP (the strict parser then answers 414), never
    /// opaque: an 8 KiB target would otherwise carry any path past the HTTP rules.
    @Test func aLongRequestTargetIsHTTP() {
        let line = Array("GET /".utf8) + Array(repeating: UInt8(ascii: "a"), count: 9000)
        #expect(detect(line) == .http1)
    }

    /// Byte-at-a-time input costs linear work: 8 KiB of request line and a 16 KiB handshake record, each fed one byte
    /// more per call, stay well inside a bound that rescanning everything on each call would exceed.
    @Test func byteAtATimeIsLinear() {
        let line = Array("GET /".utf8) + Array(repeating: UInt8(ascii: "a"), count: 8300)
        var detector = ProtocolDetector()
        let started = ContinuousClock.now
        var answer: DetectedProtocol?
        for end in 1...line.count where answer == nil { answer = detector.detect(line[..<end]) }
        #expect(answer == .http1)
        var tls = ProtocolDetector()
        let record: [UInt8] = [22, 3, 1, 0x40, 0x00] + [1, 0, 0x3f, 0xfc] + Array(repeating: 0, count: 0x4000 - 4)
        var tlsAnswer: DetectedProtocol?
        for end in 1...record.count where tlsAnswer == nil { tlsAnswer = tls.detect(record[..<end]) }
        #expect(tlsAnswer != nil)
        #expect(ContinuousClock.now - started < .seconds(1))
    }

    private func detect(_ bytes: [UInt8]) -> DetectedProtocol? {
        var detector = ProtocolDetector()
        return detector.detect(bytes)
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
            _ = detect(input)
            var sniffer = HTTPPrefaceSniffer()
            _ = sniffer.sniff(input)
            runs += 1
        }
        #expect(runs > 1000)
    }

    /// At the detect timeout what cannot be told fails closed: a TLS record begun but cut off is TLS with an unknown
    /// name, bytes that could still be a request are undecided (never opaque), and no bytes at all are silent.
    @Test(arguments: [
        (Array(CapturedTraffic.clientHello.prefix(40)), DetectedProtocol.tls(serverName: nil, alpn: [])),
        ([22], .tls(serverName: nil, alpn: [])),
        ([], .silent),
        (Array("GET / HT".utf8), .undecided),
        (Array("G".utf8), .undecided),
        (Array("\r\n".utf8), .undecided),
        (Array("SSH-2.0".utf8), .undecided),
        (Array("SSH-2.0-x\r\n".utf8), .opaque),
    ])
    func atTheTimeoutWhatCannotBeToldFailsClosed(bytes: [UInt8], expected: DetectedProtocol) {
        var detector = ProtocolDetector()
        #expect(detector.detectAtTimeout(bytes) == expected)
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
