import Foundation
import Testing

/// HTTP/1.1 proxied request by request reuses kept-alive upstream connections across client connections: a client
/// that closes after each request (curl with `Connection: close`, a chunked upload) costs the server no new
/// connection, and an idle pooled connection is closed by the proxy after its idle timeout.
@Suite struct UpstreamPoolingTests {
    /// An HTTP rule in reach, so that every request is proxied on its own.
    static let policy = """
        policy:
          outbound:
            rules:
              - { action: deny, name: no-admin, http: { pathPrefix: /admin } }
        """

    @Test func clientsThatCloseShareOneUpstreamConnection() async throws {
        try await PodTopology.with { topology in
            try topology.sidecarInit("install")
            try topology.startProxy(configuration: Self.policy)
            try topology.startHTTPServer(port: 9080)

            // Each event loop keeps its own pool, and the kernel spreads client connections over the loops' listening
            // sockets: three times as many clients as loops show the reuse.
            let loops = ProcessInfo.processInfo.activeProcessorCount
            let body = String(repeating: "chunk", count: 40_000)
            let answers = try topology.closingClients(
                host: topology.upstreamIPv4, port: 9080, count: 3 * loops, upload: "/upload", body: body)
            // Each client asked to close and was told its connection ends; the server never was.
            #expect(answers.allSatisfy { $0.connection == "close" && $0.echo.headers["connection"] == nil })
            let ports = Set(answers.map(\.echo.peerPort))
            #expect(ports.count <= loops, "\(answers.map(\.echo.peerPort))")
            let upload = answers[0].echo
            #expect(upload.method == "POST" && upload.bodyLength == body.utf8.count)
            #expect(upload.headers["transfer-encoding"] == "chunked")
            // The metrics say so: requests that took a waiting connection, and the connections waiting now.
            let reused = try topology.metric(#"sidecar_upstream_pool_reused_total{protocol="http1"}"#)
            #expect(reused >= answers.count - loops, "\(reused) of \(answers.count)")
            let waiting = try topology.metric(#"sidecar_upstream_pool_connections{protocol="http1"}"#)
            #expect(waiting >= 1 && waiting <= loops, "\(waiting)")

            // Past the pool's idle timeout the proxy has closed it: the next request opens another.
            try await Task.sleep(for: .seconds(5))
            #expect(try topology.metric(#"sidecar_upstream_pool_connections{protocol="http1"}"#) == 0)
            let later = try topology.curlClosing(host: topology.upstreamIPv4, port: 9080, "/later")
            #expect(!ports.contains(later.echo.peerPort))
        }
    }

    /// nginx takes two streams on a connection, then sends GOAWAY and ignores the streams opened after those. h2load
    /// sends four requests at once on one connection; the proxy puts all four on the first upstream connection that
    /// comes up, and the two nginx ignored, never processed, go again on new streams of other connections: all four
    /// are answered.
    @Test func streamsTheServerRefusedGoAgain() async throws {
        try await PodTopology.with { topology in
            try topology.sidecarInit("install")
            let proxy = try topology.startProxy(configuration: Self.policy)
            try topology.startHTTP2Server(port: 9449, requestsPerConnection: 2)
            let load = try Shell.run(
                topology.inPod(["h2load", "-n", "4", "-c", "1", "-m", "4", "http://\(topology.upstreamIPv4):9449/"]))
            #expect(load.stdout.contains("status codes: 4 2xx, 0 3xx, 0 4xx, 0 5xx"), "\(load.stdout)")
            let resent = proxy.output.components(separatedBy: "request sent again on a new stream").count - 1
            #expect(
                resent >= 1,
                "no stream went again: \(proxy.output.split(separator: "\n").filter { !$0.contains("\"status\":200") })"
            )
            #expect(try topology.metric(#"sidecar_upstream_requests_resent_total{reason="unprocessed"}"#) == resent)
        }
    }

    /// A client that asks to close gets the FIN in the segment that ends its response, so the proxy ends the
    /// connection first: the TIME-WAIT stays on the proxy's listener port, and none holds one of the pod's ephemeral
    /// ports (which an app closing thousands of connections a second runs out of).
    @Test func theProxyClosesFirstSoNoAppPortWaits() async throws {
        try await PodTopology.with { topology in
            try topology.sidecarInit("install")
            try topology.startProxy(configuration: Self.policy)
            try topology.startHTTPServer(port: 9081)
            for index in 0..<20 {
                let answer = try topology.curlClosing(host: topology.upstreamIPv4, port: 9081, "/\(index)")
                #expect(answer.connection == "close")
            }
            let waiting = try Shell.run(topology.inPod(["ss", "-Htan", "state", "time-wait"])).stdout
                .split(separator: "\n")
            let appPorts = waiting.filter { $0.contains("\(topology.upstreamIPv4):9081") }
            let proxySide = waiting.filter { $0.contains(":15001") }
            #expect(appPorts.isEmpty, "\(waiting)")
            #expect(proxySide.count == 20, "\(waiting)")
        }
    }
}
