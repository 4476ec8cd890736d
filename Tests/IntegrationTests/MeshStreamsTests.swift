import Foundation
import Testing

/// HTTP between two meshed pods, with `mtls.shareConnections`, rides shared mutual TLS HTTP/2 connections: each
/// request of any app connection is a stream (HTTP/1.1 translated back for the app in pod B over B's own kept-alive
/// connections; HTTP/2 and gRPC as they are, where A proxies them stream by stream); what the app sends and what the
/// server receives stay the same.
///
/// A's HTTP rule puts the app's HTTP/2 in reach of per-stream decisions, which is when it rides shared connections.
@Suite struct MeshStreamsTests {
    /// Puts the app's HTTP/2 in reach of A's per-stream decisions.
    static let aHTTPRule = "policy: { outbound: { rules: [ { action: deny, http: { pathPrefix: /admin } } ] } }\n"

    @Test func clientsThatCloseShareOneMutualTLSConnection() async throws {
        try await PodTopology.withMesh(b: "", sharedConnections: true) { topology, _ in
            try topology.startHTTPServer(port: 8081)
            let loops = ProcessInfo.processInfo.activeProcessorCount
            let body = String(repeating: "stream", count: 50_000)
            let answers = try topology.closingClients(
                host: topology.peerIPv4, port: 8081, count: 3 * loops, upload: "/upload?x=1", body: body,
                headers: ["X-Repeat: one", "X-Repeat: two", "x-sidecar-orig-proto: HTTP/2"])
            // Each client was told its connection ends; B's app never was, and never saw our header.
            #expect(answers.allSatisfy { $0.connection == "close" && $0.echo.headers["connection"] == nil })
            #expect(answers.allSatisfy { $0.echo.headers["x-sidecar-orig-proto"] == nil })
            let upload = answers[0].echo
            #expect(upload.method == "POST" && upload.path == "/upload?x=1" && upload.bodyLength == body.utf8.count)
            #expect(upload.headers["transfer-encoding"] == "chunked")
            #expect(
                upload.headers["x-repeat"] == "one, two" || upload.headers["x-repeat"] == "two", "\(upload.headers)")
            #expect(upload.headers["host"] == "\(topology.peerIPv4):8081")
            // One handshake per event loop at most carried them all, and B reused its own connections to the app.
            let handshakes = try topology.metric(#"sidecar_mesh_handshakes_total{direction="outbound",result="ok"}"#)
            #expect(handshakes >= 1 && handshakes <= loops, "\(handshakes) handshakes for \(answers.count) clients")
            #expect(Set(answers.map(\.echo.peerPort)).count <= loops, "\(answers.map(\.echo.peerPort))")

            // HTTP/1.0 takes a mutual TLS connection of its own (`sidecar.mesh/http1`), and is served too.
            let old = try Shell.run(
                topology.inPod(["curl", "-s", "--http1.0", "-m", "5", "http://\(topology.peerIPv4):8081/old"])
            ).stdout
            let echoed = try JSONDecoder().decode(PeerClient.EchoedRequest.self, from: Data(old.utf8))
            #expect(echoed.path == "/old")
            let after = try topology.metric(#"sidecar_mesh_handshakes_total{direction="outbound",result="ok"}"#)
            #expect(after == handshakes + 1)
        }
    }

    /// The app in pod B gets the same request whether pod A's sidecar carried it as a stream of a shared connection
    /// or it came straight from A (the proxy's uid, which A's rules leave alone, relayed untouched by B): method,
    /// target, headers and their order of values, body and its chunked framing. Only the client's `Connection` is
    /// its own hop's, and `traceparent` names the sidecars' span (as for any request they proxy).
    @Test func theAppReceivesWhatItWouldWithoutTheSidecars() async throws {
        try await PodTopology.withMesh(b: "", sharedConnections: true) { topology, _ in
            try topology.startHTTPServer(port: 8081)
            let request =
                "POST /items?id=7&q=%20a%2Fb HTTP/1.1\r\nHost: orders.shop:8081\r\nX-Trace: one\r\n"
                + "Content-Type: application/json\r\nX-Trace: two\r\nTransfer-Encoding: chunked\r\n"
                + "Connection: close\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"
            func echo(uid: Int?) throws -> PeerClient.EchoedRequest {
                let exchange = try PeerClient.httpRaw(
                    topology.inPod(uid: uid, []), host: topology.peerIPv4, port: 8081, request)
                let body = exchange.received.components(separatedBy: "\r\n\r\n").dropFirst().joined()
                return try JSONDecoder().decode(PeerClient.EchoedRequest.self, from: Data(body.utf8))
            }
            let meshed = try echo(uid: nil)
            let direct = try echo(uid: 1337)
            #expect(meshed.method == direct.method && meshed.path == direct.path)
            #expect(meshed.bodyLength == 11 && meshed.bodySha256 == direct.bodySha256)
            var meshedHeaders = meshed.headers
            var directHeaders = direct.headers
            meshedHeaders["connection"] = nil
            directHeaders["connection"] = nil
            let traceparent = meshedHeaders.removeValue(forKey: "traceparent")
            #expect(traceparent?.hasPrefix("00-") == true)
            #expect(meshedHeaders == directHeaders)
            let handshakes = try topology.metric(#"sidecar_mesh_handshakes_total{direction="outbound",result="ok"}"#)
            #expect(handshakes == 1, "the request did not go through A's shared connection")
        }
    }

    /// gRPC across two meshed pods rides the shared connections too: unary and bidirectional streaming calls of three
    /// app connections (grpcio channels, one after the other) arrive intact, and calls of different app connections
    /// ride one shared connection (A's access log names the connection that carried each).
    @Test func grpcCallsOfManyAppConnectionsRideTheSharedConnections() async throws {
        let accessLog = try AccessLogFile()
        try await PodTopology.withMesh(
            b: "", sharedConnections: true, a: Self.aHTTPRule, aArguments: ["--access-log", accessLog.path]
        ) { topology, _ in
            try topology.startGRPCServer(port: 9305)
            for _ in 0..<3 {
                let calls = try topology.grpcCalls(port: 9305, ["Say", "Chat", "Say"])
                #expect(calls.map(\.code) == ["OK", "OK", "OK"], "\(calls)")
                #expect(calls.map(\.reply) == ["hello", "ONE|TWO|THREE", "hello"])
            }
            let requests = try accessLog.entries { $0.filter { $0["kind"] as? String == "request" }.count == 9 }
                .filter { $0["kind"] as? String == "request" }
            #expect(requests.count == 9)
            #expect(requests.allSatisfy { $0["peerIdentity"] as? String == MutualTLSTests.orders }, "\(requests)")
            // Which app connections (by source) each shared connection carried calls of.
            let appConnections = Dictionary(grouping: requests) { $0["upstreamConnection"] as? String ?? "none" }
                .mapValues { Set($0.compactMap { $0["source"] as? String }) }
            #expect(appConnections["none"] == nil)
            #expect(appConnections.values.contains { $0.count >= 2 }, "\(appConnections)")
            // The pool counts the shared connections it holds, and the calls that went on one already open.
            #expect(
                try topology.metric(#"sidecar_upstream_pool_connections{protocol="http2"}"#) == appConnections.count)
            #expect(
                try topology.metric(#"sidecar_upstream_pool_reused_total{protocol="http2"}"#) >= 9
                    - appConnections.count)
        }
    }

    /// HTTP/2 clients across two meshed pods over the shared connections: each of h2load's 400 requests, 8 at a time
    /// on 4 connections, is answered, and nghttp's gRPC-shaped call gets its answer and trailers.
    @Test func http2ClientsStreamsRideTheSharedConnections() async throws {
        try await PodTopology.withMesh(b: "", sharedConnections: true, a: Self.aHTTPRule) { topology, _ in
            try topology.startHTTP2Server(port: 9443)
            let base = "http://\(topology.upstreamIPv4):9443"
            let load = try Shell.run(topology.inPod(["h2load", "-n", "400", "-c", "4", "-m", "8", "\(base)/"]))
            #expect(load.stdout.contains("400 succeeded, 0 failed, 0 errored"), "\(load.stdout)")
            #expect(load.stdout.contains("status codes: 400 2xx"), "\(load.stdout)")
            let body = try topology.writeReadableFile(named: "\(topology.pod)-grpc-body", "hello")
            let call = try Shell.run(
                topology.inPod([
                    "nghttp", "-nv", "--timeout=10", "-d", body, "-H", "content-type: application/grpc", "-H",
                    "te: trailers", "\(base)/echo.Echo/Say",
                ]))
            let streams = HTTP2Trace(call.stdout)
            #expect(streams.status(of: "/echo.Echo/Say") == 200, "\(call.stdout)")
            #expect(streams.field("grpc-status", of: "/echo.Echo/Say") == "0", "the trailers crossed")
            // At most the pool's four connections per event loop carried the five app connections' streams.
            let loops = ProcessInfo.processInfo.activeProcessorCount
            let handshakes = try topology.metric(#"sidecar_mesh_handshakes_total{direction="outbound",result="ok"}"#)
            #expect(handshakes >= 1 && handshakes <= 4 * loops, "\(handshakes) handshakes")
        }
    }

    /// Pipelined HTTP/1.1 over the shared connections: three requests written at once on one app connection are
    /// answered in order; a chunked upload's trailers reach the app in pod B, the app's response trailers reach the
    /// client, and the client's `Connection: close` on the last ends its own connection.
    @Test func pipelinedRequestsAndTrailersCrossTheSharedConnections() async throws {
        try await PodTopology.withMesh(b: "", sharedConnections: true) { topology, _ in
            try topology.startHTTPServer(port: 8082)
            let request =
                "POST /trailers/upload HTTP/1.1\r\nHost: orders\r\nTransfer-Encoding: chunked\r\nTE: trailers\r\n\r\n"
                + "5\r\nhello\r\n0\r\nX-Checksum: 2cf24dba\r\n\r\n"
                + "GET /second HTTP/1.1\r\nHost: orders\r\n\r\n"
                + "GET /third HTTP/1.1\r\nHost: orders\r\nConnection: close\r\n\r\n"
            let exchange = try PeerClient.httpRaw(topology.inPod([]), host: topology.peerIPv4, port: 8082, request)
            let responses = exchange.received.components(separatedBy: "HTTP/1.1 200 OK\r\n").dropFirst().map {
                String($0)
            }
            #expect(responses.count == 3, "\(exchange.received)")
            let echoes = try responses.map { response in
                let json = try #require(
                    response.firstIndex(of: "{").flatMap { start in
                        response.lastIndex(of: "}").map { response[start...$0] }
                    })
                return (
                    json: String(json),
                    echo: try JSONDecoder().decode(PeerClient.EchoedRequest.self, from: Data(json.utf8))
                )
            }
            #expect(echoes.map(\.echo.path) == ["/trailers/upload", "/second", "/third"])
            #expect(echoes.first?.echo.bodyLength == 5)
            #expect(echoes.first?.echo.trailers == ["x-checksum": "2cf24dba"])
            // The app's trailer names the SHA-256 of the body it sent.
            let checksum = try Shell.run(["sha256sum"], stdin: echoes[0].json).stdout.prefix(64)
            #expect(responses[0].lowercased().contains("x-served-checksum: \(checksum)"), "\(responses[0])")
            #expect(responses[2].lowercased().contains("connection: close") && exchange.closed)
        }
    }
}
