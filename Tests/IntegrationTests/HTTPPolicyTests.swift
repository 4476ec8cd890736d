import Foundation
import Testing

/// HTTP/1.1 proxied request by request: every request of a keep-alive connection meets the policy, a denied one gets
/// 403 and the connection goes on, and requests a server could frame differently are refused before any upstream.
@Suite struct HTTPPolicyTests {
    static let policy = """
        policy:
          outbound:
            rules:
              - { action: deny, name: no-admin, http: { pathPrefix: /admin } }
              - { action: deny, name: no-delete, http: { methods: [DELETE] } }
              - { action: allow, name: blue-team, http: { headers: { x-team: { prefix: blue } } } }
              - { action: deny, name: only-blue-on-9100, ports: [9100] }
        """

    /// A denied path gets 403 naming the rule, and the next request on the same connection gets the upstream's 200
    /// over the same upstream connection (the server sees one source port), from the original destination.
    @Test func aDeniedPathLeavesTheKeepAliveConnectionUsable() async throws {
        try await PodTopology.with { topology in
            try topology.sidecarInit("install")
            let proxy = try topology.startProxy(configuration: Self.policy)
            try topology.startHTTPServer(port: 9080)

            let responses = try PeerClient.httpRequests(
                topology.inPod([]), host: topology.upstreamIPv4, port: 9080,
                [
                    "GET /public", "GET /admin/users", "POST /upload 200000", "GET /x/../admin", "GET /%61dmin",
                    "DELETE /public", "HEAD /public", "GET /public",
                ])
            #expect(responses.map(\.status) == [200, 403, 200, 403, 403, 403, 200, 200])
            #expect(responses[1].text == "denied by sidecar policy: rule no-admin\n")
            #expect(responses[5].text == "denied by sidecar policy: rule no-delete\n")
            let first = try #require(responses[0].echo)
            #expect(first.local == topology.upstreamIPv4 && first.path == "/public")
            #expect(responses[2].echo?.bodyLength == 200_000)
            #expect(responses[7].echo?.peerPort == first.peerPort)
            #expect(responses.allSatisfy { $0.connection != "close" })
            #expect(proxy.output.contains("rule=no-admin"))
            #expect(proxy.output.contains("path=/admin"))
        }
    }

    /// The first matching rule decides each request: an allow on a header (its name in any case, its value by
    /// prefix) comes before a port-wide deny.
    @Test func headerAllowBeforeAPortDeny() async throws {
        try await PodTopology.with { topology in
            try topology.sidecarInit("install")
            try topology.startProxy(configuration: Self.policy)
            try topology.startHTTPServer(port: 9100)

            let blue = try PeerClient.httpRaw(
                topology.inPod([]), host: topology.upstreamIPv4, port: 9100,
                "GET /a HTTP/1.1\r\nHost: api\r\nX-TEAM: blue-green\r\n\r\nGET /b HTTP/1.1\r\nHost: api\r\n\r\n"
                    + "GET /c HTTP/1.1\r\nHost: api\r\nX-Team: green-blue\r\n\r\n")
            let statuses = blue.received.components(separatedBy: "HTTP/1.1 ").dropFirst().map { $0.prefix(3) }
            // The header's name in any case, its value by prefix.
            #expect(statuses == ["200", "403", "403"], "\(blue.received)")
            #expect(blue.received.contains("rule only-blue-on-9100"))
        }
    }

    /// A reload applies from the next request on, also on a keep-alive connection opened before it.
    @Test func aReloadAppliesToTheNextRequestOfAnOpenConnection() async throws {
        try await PodTopology.with { topology in
            try topology.sidecarInit("install")
            let denyPath = { (path: String) in
                "policy: { outbound: { rules: [ { action: deny, http: { pathPrefix: \(path) } } ] } }"
            }
            let proxy = try topology.startProxy(configuration: denyPath("/b"))
            try topology.startHTTPServer(port: 9080)
            let client = try topology.start(
                name: "http-client",
                topology.inPod([
                    "/usr/bin/python3", "-B", Binaries.peer, "http-requests", topology.upstreamIPv4, "9080", "GET /a",
                    "GET /b", "PAUSE", "GET /a", "GET /b",
                ]))
            try client.waitForOutput("HOLDING")

            _ = try topology.writeReadableFile(named: "\(topology.pod).yaml", denyPath("/a"))
            proxy.signal(SIGHUP)
            try proxy.waitForOutput("generation=2")
            client.closeInput()
            #expect(client.waitForExit(timeout: .seconds(20)) == 0)
            let report = try #require(client.output.split(separator: "\n").last)
            let responses = try JSONDecoder().decode([PeerClient.HTTPResponse].self, from: Data(report.utf8))
            #expect(responses.map(\.status) == [200, 403, 403, 200])
        }
    }

    /// Ambiguous framing, a missing Host and oversized headers are refused with 400 or 431, and never reach the
    /// upstream.
    @Test func smugglingVectorsAndOversizedHeadersAreRefused() async throws {
        try await PodTopology.with { topology in
            try topology.sidecarInit("install")
            try topology.startProxy(configuration: Self.policy)
            try topology.startHTTPServer(port: 9080)
            let bigValue = String(repeating: "a", count: 70 * 1024)
            let manyHeaders = (0..<120).map { "X-H\($0): v\r\n" }.joined()
            let cases: [(String, Int)] = [
                ("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400),
                ("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\nContent-Length: 5\r\n\r\nabcde", 400),
                ("GET / HTTP/1.1\r\nHost: a\r\nX-Folded: one\r\n two\r\n\r\n", 400),
                ("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n", 400),
                ("GET / HTTP/1.1\r\n\r\n", 400),
                ("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400),
                ("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400),
                ("GET http://a/x HTTP/1.1\r\nHost: b\r\n\r\n", 400),
                ("GET / HTTP/1.1\r\nHost: a\r\nX-Big: \(bigValue)\r\n\r\n", 431),
                ("GET / HTTP/1.1\r\nHost: a\r\n\(manyHeaders)\r\n", 431),
            ]
            for (request, status) in cases {
                let exchange = try PeerClient.httpRaw(
                    topology.inPod([]), host: topology.upstreamIPv4, port: 9080, request)
                #expect(exchange.status == status, "\(request.prefix(80)) -> \(exchange.received.prefix(200))")
                #expect(exchange.closed)
                #expect(!exchange.received.contains("bodySha256"), "reached the upstream: \(request.prefix(80))")
            }
        }
    }

    /// A chunked body is passed on chunked whatever the case of `Transfer-Encoding`: a request hidden in its data
    /// stays data, and the upstream answers once.
    @Test func aChunkedBodyCannotSmuggleARequest() async throws {
        try await PodTopology.with { topology in
            try topology.sidecarInit("install")
            try topology.startProxy(configuration: Self.policy)
            try topology.startHTTPServer(port: 9080)
            let hidden = "GET /admin HTTP/1.1\r\nHost: a\r\n\r\n"
            let exchange = try PeerClient.httpRaw(
                topology.inPod([]), host: topology.upstreamIPv4, port: 9080,
                "POST /upload HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: Chunked\r\n\r\n"
                    + String(hidden.utf8.count, radix: 16) + "\r\n\(hidden)\r\n0\r\n\r\n")
            #expect(exchange.received.components(separatedBy: "HTTP/1.1 ").count == 2, "\(exchange.received)")
            #expect(exchange.status == 200)
            #expect(exchange.received.contains("\"bodyLength\": \(hidden.utf8.count)"))
        }
    }

    /// Bytes sent behind a CONNECT or an upgrade request wait for the upstream's answer. When it declines (the
    /// server keeps the connection, as HTTP lets it), they are no tunnel: they are read as requests and each is
    /// decided, so a denied one never reaches the upstream and an allowed one is answered.
    @Test func bytesBehindADeclinedUpgradeOrConnectAreDecidedAsRequests() async throws {
        try await PodTopology.with { topology in
            try topology.sidecarInit("install")
            try topology.startProxy(configuration: Self.policy)
            try topology.startHTTPServer(port: 9080)
            for opening in [
                "CONNECT refuse.internal:1 HTTP/1.1\r\nHost: refuse.internal:1\r\n\r\n",
                "GET /a HTTP/1.1\r\nHost: a\r\nUpgrade: nothing-known\r\nConnection: Upgrade\r\n\r\n",
            ] {
                let exchange = try PeerClient.httpRaw(
                    topology.inPod([]), host: topology.upstreamIPv4, port: 9080,
                    opening + "GET /admin HTTP/1.1\r\nHost: a\r\n\r\nGET /b HTTP/1.1\r\nHost: a\r\n\r\n")
                let statuses = exchange.received.components(separatedBy: "HTTP/1.1 ").dropFirst().map { $0.prefix(3) }
                #expect(statuses.dropFirst() == ["403", "200"], "\(exchange.received)")
                #expect(!exchange.received.contains("\"path\": \"/admin\""), "\(exchange.received)")
                #expect(exchange.received.contains("\"path\": \"/b\""), "\(exchange.received)")
            }
        }
    }

    /// An upgrade the upstream accepts turns the connection into a tunnel; a denied one gets 403 and is closed.
    @Test func upgradesBecomeTunnels() async throws {
        try await PodTopology.with { topology in
            try topology.sidecarInit("install")
            try topology.startProxy(configuration: Self.policy)
            try topology.startHTTPServer(port: 9080)

            let upgraded = try PeerClient.httpUpgrade(topology.inPod([]), host: topology.upstreamIPv4, port: 9080)
            #expect(upgraded.status == 101)
            #expect(upgraded.echo == "ping")
            // Bytes sent right behind the upgrade request, before the 101, wait for the tunnel and go through it.
            let eager = try PeerClient.httpRaw(
                topology.inPod([]), host: topology.upstreamIPv4, port: 9080,
                "GET /ws HTTP/1.1\r\nHost: a\r\nUpgrade: echo\r\nConnection: Upgrade\r\n\r\nping")
            #expect(eager.status == 101)
            #expect(eager.received.hasSuffix("\r\n\r\nping"), "\(eager.received)")
            // The request's own body goes first, as HTTP, and the tunnel starts after it.
            let withBody = try PeerClient.httpRaw(
                topology.inPod([]), host: topology.upstreamIPv4, port: 9080,
                "POST /ws HTTP/1.1\r\nHost: a\r\nUpgrade: echo\r\nConnection: Upgrade\r\nContent-Length: 10\r\n\r\n"
                    + "0123456789ping")
            #expect(withBody.status == 101)
            #expect(withBody.received.hasSuffix("\r\n\r\n0123456789ping"), "\(withBody.received)")
            let denied = try PeerClient.httpRaw(
                topology.inPod([]), host: topology.upstreamIPv4, port: 9080,
                "GET /admin HTTP/1.1\r\nHost: a\r\nUpgrade: echo\r\nConnection: Upgrade\r\n\r\nping")
            #expect(denied.status == 403)
            #expect(denied.closed)
            #expect(!denied.received.contains("ping"))

            // CONNECT: decided on its head, then a tunnel; bytes sent right behind the head go through it.
            let tunnel = try PeerClient.httpRaw(
                topology.inPod([]), host: topology.upstreamIPv4, port: 9080,
                "CONNECT db.internal:5432 HTTP/1.1\r\nHost: db.internal:5432\r\n\r\nping")
            #expect(tunnel.status == 200)
            #expect(tunnel.received.hasSuffix("\r\n\r\nping"), "\(tunnel.received)")

            // An offer to switch to cleartext HTTP/2 is taken out: the server answers in HTTP/1.1, then the
            // connection ends (no request after it could be read).
            let h2c = try PeerClient.httpRaw(
                topology.inPod([]), host: topology.upstreamIPv4, port: 9080,
                "GET /x HTTP/1.1\r\nHost: a\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQAoAAAAAIAAAAA\r\n"
                    + "Connection: Upgrade, HTTP2-Settings\r\n\r\n")
            #expect(h2c.status == 200)
            #expect(h2c.closed)
            #expect(!h2c.received.contains("\"upgrade\""), "\(h2c.received)")
            #expect(!h2c.received.contains("http2-settings"))
        }
    }

    /// With a request timeout, a response that has not begun in time becomes 504, and the late answer never reaches
    /// the client; without one (the default) a slow answer is waited for.
    @Test func aSlowResponseTimesOutWith504() async throws {
        try await PodTopology.with { topology in
            try topology.sidecarInit("install")
            try topology.startProxy(
                configuration: """
                    timeouts: { request: 500ms }
                    policy: { outbound: { rules: [ { action: deny, http: { pathPrefix: /admin } } ] } }
                    """)
            try topology.startHTTPServer(port: 9080)
            let started = ContinuousClock.now
            let slow = try PeerClient.httpRaw(
                topology.inPod([]), host: topology.upstreamIPv4, port: 9080, "GET /slow HTTP/1.1\r\nHost: a\r\n\r\n")
            #expect(slow.status == 504, "\(slow.received)")
            #expect(slow.closed)
            #expect(ContinuousClock.now - started < .seconds(2))
            #expect(!slow.received.contains("bodySha256"))
            let fast = try PeerClient.httpRequests(
                topology.inPod([]), host: topology.upstreamIPv4, port: 9080, ["GET /fast"])
            #expect(fast.map(\.status) == [200])
        }
    }

    /// An allowed request whose upstream refuses the connection gets 502, over HTTP/1.1 and on its HTTP/2 stream.
    @Test func anUnreachableUpstreamGets502() async throws {
        try await PodTopology.with { topology in
            try topology.sidecarInit("install")
            try topology.startProxy(configuration: Self.policy)

            let http1 = try PeerClient.httpRaw(
                topology.inPod([]), host: topology.upstreamIPv4, port: 9099, "GET /a HTTP/1.1\r\nHost: a\r\n\r\n")
            #expect(http1.status == 502)
            #expect(http1.closed)
            let http2 = try Shell.run(
                topology.inPod(["nghttp", "-nv", "--timeout=10", "http://\(topology.upstreamIPv4):9099/a"]))
            #expect(HTTP2Trace(http2.stdout).status(of: "/a") == 502, "\(http2.stdout)")
        }
    }

    /// HTTP/2 with a request timeout: the slow stream gets 504 after it, while a quick stream on the same connection
    /// is answered as usual.
    @Test func aSlowHTTP2StreamTimesOutWith504() async throws {
        try await PodTopology.with { topology in
            try topology.sidecarInit("install")
            try topology.startProxy(
                configuration: """
                    timeouts: { request: 1s }
                    policy: { outbound: { rules: [ { action: deny, http: { pathPrefix: /admin } } ] } }
                    """)
            try topology.startHTTP2Server(port: 9443)
            let base = "http://\(topology.upstreamIPv4):9443"
            let started = ContinuousClock.now
            let calls = try Shell.run(
                topology.inPod(["nghttp", "-nv", "--timeout=10", "\(base)/slow", "\(base)/quick"]))
            let elapsed = ContinuousClock.now - started
            let streams = HTTP2Trace(calls.stdout)
            #expect(streams.status(of: "/slow") == 504, "\(calls.stdout)")
            #expect(streams.status(of: "/quick") == 200)
            #expect(elapsed < .milliseconds(2500), "answered after the 1 s timeout, not the 3 s answer: \(elapsed)")
        }
    }

    /// gRPC-style HTTP/2 (prior knowledge, as gRPC over cleartext speaks it): the allowed call passes with its
    /// trailers, a denied one gets PERMISSION_DENIED on its stream, and the next call reuses the same connection.
    @Test func http2StreamsAreDecidedOneByOne() async throws {
        try await PodTopology.with { topology in
            try topology.sidecarInit("install")
            let proxy = try topology.startProxy(
                configuration: """
                    policy:
                      outbound:
                        rules:
                          - { action: deny, name: no-admin-rpc, http: { pathPrefix: /admin.Admin/ } }
                          - action: allow
                            name: echo-rpc
                            http: { methods: [POST], pathPrefix: /echo.Echo/, headers: { content-type: application/grpc } }
                          - { action: deny, name: grpc-only, ports: [9443] }
                    """)
            try topology.startHTTP2Server(port: 9443)
            let base = "http://\(topology.upstreamIPv4):9443"
            let body = try topology.writeReadableFile(named: "\(topology.pod)-grpc-body", "hello")
            // Three concurrent streams on one connection.
            let calls = try Shell.run(
                topology.inPod([
                    "nghttp", "-nv", "--timeout=10", "-d", body, "-H", "content-type: application/grpc", "-H",
                    "te: trailers",
                    "\(base)/echo.Echo/Say", "\(base)/admin.Admin/Reset", "\(base)/echo.Echo/Hello",
                ]))
            let streams = HTTP2Trace(calls.stdout)
            #expect(streams.status(of: "/echo.Echo/Say") == 200, "\(calls.stdout)")
            // A gRPC call is denied in gRPC terms: a trailers-only answer with PERMISSION_DENIED and the rule.
            #expect(streams.status(of: "/admin.Admin/Reset") == 200)
            #expect(streams.field("grpc-status", of: "/admin.Admin/Reset") == "7")
            #expect(
                streams.field("grpc-message", of: "/admin.Admin/Reset") == "denied by sidecar policy: rule no-admin-rpc"
            )
            #expect(streams.status(of: "/echo.Echo/Hello") == 200)
            #expect(streams.field("grpc-status", of: "/echo.Echo/Say") == "0", "the trailers crossed")
            #expect(streams.connections == 1)
            #expect(proxy.output.contains("rule=no-admin-rpc"))

            // The upstream stream carries the client's trace, with the proxy's span as its parent.
            let traced = try Shell.run(
                topology.inPod([
                    "curl", "-s", "--max-time", "10", "--http2-prior-knowledge", "-X", "POST", "-H",
                    "content-type: application/grpc", "-H",
                    "traceparent: 00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", "\(base)/echo.Echo/Trace",
                ]))
            #expect(traced.stdout.hasPrefix("00-0af7651916cd43dd8448eb211c80319c-"), "\(traced.stdout)")
            #expect(traced.stdout.count == 55 && !traced.stdout.contains("b7ad6b7169203331"))

            let plain = try Shell.run(
                topology.inPod([
                    "curl", "-s", "--max-time", "10", "--http2-prior-knowledge", "-w", "|%{http_code}", "\(base)/other",
                ]))
            #expect(plain.stdout == "denied by sidecar policy: rule grpc-only\n|403")
        }
    }
}

/// What `nghttp -nv` printed, read per request path: the fields each stream received.
struct HTTP2Trace {
    private var pathOfStream: [String: String] = [:]
    private var fields: [String: [String: String]] = [:]
    /// How many connections the client opened (one SETTINGS frame sent per connection).
    private(set) var connections = 0

    init(_ output: String) {
        var openingStream: String?
        for line in output.split(separator: "\n").map({ $0.trimmingCharacters(in: .whitespaces) }) {
            if line.contains("send SETTINGS frame") && !line.contains("flags=0x01") { connections += 1 }
            if line.contains("send HEADERS frame"), let id = line.split(separator: "stream_id=").last {
                openingStream = String(id.dropLast())
            } else if line.hasPrefix(":path: "), let stream = openingStream {
                pathOfStream[stream] = String(line.dropFirst(":path: ".count))
                openingStream = nil
            } else if line.contains("recv (stream_id="), let open = line.range(of: "stream_id="),
                let close = line.range(of: ") ")
            {
                let stream = String(line[open.upperBound..<close.lowerBound])
                let field = line[close.upperBound...].split(separator: ": ", maxSplits: 1).map(String.init)
                if field.count == 2 { fields[stream, default: [:]][field[0]] = field[1] }
            }
        }
    }

    func field(_ name: String, of path: String) -> String? {
        guard let stream = pathOfStream.first(where: { $0.value == path })?.key else { return nil }
        return fields[stream]?[name]
    }

    func status(of path: String) -> Int? {
        field(":status", of: path).flatMap { Int($0) }
    }
}
