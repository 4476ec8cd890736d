import Foundation
import Testing

/// SIGTERM drains: no new connections, open ones finish, then exit 0.
@Suite struct ShutdownTests {
    @Test func sigtermLetsAnOpenConnectionFinishThenExitsZero() async throws {
        try await PodTopology.with { topology in
            try topology.sidecarInit("install")
            let proxy = try topology.startProxy()
            try topology.startServer(inPod: false, port: 9000)
            let held = try topology.startHeldCall(port: 9000, size: 4096)

            proxy.signal(SIGTERM)
            try proxy.waitForOutput("] draining")
            #expect(proxy.isRunning, "the held connection keeps the proxy draining")
            let fresh = try PeerClient.probe(topology.inPod([]), host: topology.upstreamIPv4, port: 9000)
            #expect(fresh.outcome == "refused", "the listeners are closed")

            held.closeInput()
            #expect(held.waitForExit(timeout: .seconds(15)) == 0)
            let report = try #require(held.output.split(separator: "\n").last)
            let result = try JSONDecoder().decode(PeerClient.CallResult.self, from: Data(report.utf8))
            #expect(result.server.sha256 == result.sentSha256)
            #expect(result.receivedSha256 == result.expectedSha256)
            #expect(proxy.waitForExit(timeout: .seconds(10)) == 0)
        }
    }
}
