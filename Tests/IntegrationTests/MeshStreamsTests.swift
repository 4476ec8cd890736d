import Foundation
import Testing

/// HTTP/1.1 between two meshed pods, with `mtls.shareConnections`, rides shared mutual TLS HTTP/2 connections: each
/// request of any app connection is a stream, translated back to HTTP/1.1 for the app in pod B over B's own kept-alive connections; what the app
/// sends and what the server receives stay the same.
@Suite struct MeshStreamsTests {
    /// A counter's value in Prometheus text, 0 when absent.
    func counter(_ metrics: String, _ series: String) -> Int {
        metrics.split(separator: "\n").first { $0.hasPrefix(series + " ") }
            .flatMap { Double($0.split(separator: " ").last ?? "") }.map { Int($0) } ?? 0
    }

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
            let handshakes = counter(
                try topology.askProxy("/metrics"), #"sidecar_mesh_handshakes_total{direction="outbound",result="ok"}"#)
            #expect(handshakes >= 1 && handshakes <= loops, "\(handshakes) handshakes for \(answers.count) clients")
            #expect(Set(answers.map(\.echo.peerPort)).count <= loops, "\(answers.map(\.echo.peerPort))")

            // HTTP/1.0 takes a mutual TLS connection of its own (`sidecar.mesh/http1`), and is served too.
            let old = try Shell.run(
                topology.inPod(["curl", "-s", "--http1.0", "-m", "5", "http://\(topology.peerIPv4):8081/old"])
            ).stdout
            let echoed = try JSONDecoder().decode(PeerClient.EchoedRequest.self, from: Data(old.utf8))
            #expect(echoed.path == "/old")
            let after = counter(
                try topology.askProxy("/metrics"), #"sidecar_mesh_handshakes_total{direction="outbound",result="ok"}"#)
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
            let handshakes = counter(
                try topology.askProxy("/metrics"), #"sidecar_mesh_handshakes_total{direction="outbound",result="ok"}"#)
            #expect(handshakes == 1, "the request did not go through A's shared connection")
        }
    }
}
