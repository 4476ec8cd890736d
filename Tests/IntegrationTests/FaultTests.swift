import Foundation
import Testing

/// Upstreams that misbehave: the app fails fast and clearly, and the proxy is not the one that stalls.
@Suite struct FaultTests {
    /// SYNs to the upstream are dropped without answer: the app's connection is reset once the connect timeout
    /// runs out, not after the kernel's minutes of retries.
    @Test func aBlackHoledUpstreamFailsWithinTheConnectTimeout() async throws {
        try await PodTopology.with { topology in
            try topology.sidecarInit("install")
            try topology.blackHole(port: 9082)
            let proxy = try topology.startProxy(
                configuration: """
                    timeouts: { connect: 1s }
                    policy: { outbound: { rules: [ { action: deny, http: { pathPrefix: /admin } } ] } }
                    """)
            let probe = try PeerClient.probe(topology.inPod([]), host: topology.upstreamIPv4, port: 9082)
            #expect(probe.outcome == "reset")
            #expect(probe.elapsed > 0.9 && probe.elapsed < 2.0, "failed after \(probe.elapsed) s")
            #expect(proxy.output.contains("upstream connect failed"))

            // HTTP proxied request by request (an HTTP rule is in reach) gets a 502 in the same time.
            let started = ContinuousClock.now
            let http = try PeerClient.httpRaw(
                topology.inPod([]), host: topology.upstreamIPv4, port: 9082, "GET / HTTP/1.1\r\nHost: a\r\n\r\n")
            #expect(http.received.hasPrefix("HTTP/1.1 502"), "\(http.received)")
            #expect(ContinuousClock.now - started < .seconds(2))
        }
    }
}
