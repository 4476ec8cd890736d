import Foundation
import Testing

/// Connection limits: beyond `maxConnections` to a matching destination, a new connection is refused at once, and a
/// place that frees up is taken again.
@Suite struct LimitTests {
    @Test func aThirdConnectionBeyondTwoIsRefusedFast() async throws {
        try await PodTopology.with { topology in
            try topology.sidecarInit("install")
            let proxy = try topology.startProxy(
                configuration: "limits: [ { name: two-at-most, ports: [9000], maxConnections: 2 } ]")
            try topology.startServer(inPod: false, port: 9000)
            try topology.startServer(inPod: false, port: 9001)
            let first = try topology.startHeldCall(port: 9000, size: 1000)
            let second = try topology.startHeldCall(port: 9000, size: 1000)

            let third = try PeerClient.probe(topology.inPod([]), host: topology.upstreamIPv4, port: 9000)
            #expect(third.outcome == "reset")
            #expect(third.elapsed < 1.0)
            #expect(try PeerClient.reaches(topology.inPod([]), host: topology.upstreamIPv4, port: 9001))
            #expect(proxy.output.contains("limit=two-at-most"))

            first.closeInput()
            #expect(first.waitForExit(timeout: .seconds(15)) == 0)
            // The place the first held connection had is free again (released as its close completes).
            var reached = false
            for _ in 0..<20 where !reached {
                reached = try PeerClient.reaches(topology.inPod([]), host: topology.upstreamIPv4, port: 9000)
                if !reached { usleep(100_000) }
            }
            #expect(reached)
            second.closeInput()
            #expect(second.waitForExit(timeout: .seconds(15)) == 0)
        }
    }
}
