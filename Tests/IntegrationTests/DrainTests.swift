import Foundation
import Testing

/// A drain tells clients of HTTP proxied request by request, so that a keep-alive client never meets a reset on a
/// connection it reuses: HTTP/1.1 closes
/// idle connections between requests and answers what is in flight with `Connection: close`; HTTP/2 sends GOAWAY
/// and lets its streams finish.
@Suite struct DrainTests {
    @Test func http1IdleConnectionsCloseAndInFlightOnesAreToldToClose() async throws {
        try await PodTopology.with { topology in
            try topology.sidecarInit("install")
            let proxy = try topology.startProxy(
                configuration: "policy: { outbound: { rules: [ { action: deny, http: { pathPrefix: /admin } } ] } }")
            try topology.startHTTPServer(port: 9080)
            let paced = { (name: String, parts: [String]) in
                try topology.start(
                    name: name,
                    topology.inPod(
                        [
                            "/usr/bin/python3", "-B", Binaries.peer, "paced-send", topology.upstreamIPv4, "9080",
                            "--timeout",
                            "8", "--",
                        ] + parts))
            }
            // Answered at once, then idle; and one whose answer takes three seconds.
            let idle = try paced("idle-client", ["GET /a HTTP/1.1\\r\\nHost: api\\r\\n\\r\\n", "@4"])
            let inFlight = try paced("slow-client", ["GET /slow HTTP/1.1\\r\\nHost: api\\r\\n\\r\\n"])
            usleep(1_000_000)
            proxy.signal(SIGTERM)

            #expect(idle.waitForExit(timeout: .seconds(15)) == 0)
            #expect(inFlight.waitForExit(timeout: .seconds(15)) == 0)
            let idleResult = try JSONDecoder().decode(PeerClient.PacedResult.self, from: Data(idle.output.utf8))
            #expect(idleResult.received.hasPrefix("HTTP/1.1 200") && idleResult.ended == "closed", "\(idleResult)")
            let slowResult = try JSONDecoder().decode(PeerClient.PacedResult.self, from: Data(inFlight.output.utf8))
            #expect(slowResult.received.hasPrefix("HTTP/1.1 200"), "\(slowResult)")
            #expect(slowResult.received.lowercased().contains("connection: close"), "\(slowResult)")
            #expect(slowResult.ended == "closed", "\(slowResult)")
            // Nothing was left to wait for: the drain ends without its timeout.
            #expect(proxy.waitForExit(timeout: .seconds(10)) == 0)
        }
    }

    @Test func http2ClientsGetGOAWAYAndTheirStreamsFinish() async throws {
        try await PodTopology.with { topology in
            try topology.sidecarInit("install")
            let proxy = try topology.startProxy(
                configuration: "policy: { outbound: { rules: [ { action: deny, http: { pathPrefix: /admin } } ] } }")
            try topology.startHTTP2Server(port: 9443)
            let client = try topology.start(
                name: "nghttp",
                topology.inPod(["nghttp", "-nv", "--timeout=10", "http://\(topology.upstreamIPv4):9443/slow"]))
            usleep(1_000_000)
            proxy.signal(SIGTERM)
            #expect(client.waitForExit(timeout: .seconds(15)) == 0)
            let streams = HTTP2Trace(client.output)
            #expect(streams.status(of: "/slow") == 200, "\(client.output)")
            #expect(client.output.contains("recv GOAWAY frame"), "\(client.output)")
            #expect(proxy.waitForExit(timeout: .seconds(10)) == 0)
        }
    }
}
