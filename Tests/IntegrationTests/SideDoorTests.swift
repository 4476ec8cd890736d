import Foundation
import Testing

/// The proxy's own ports are side doors that anyone who reaches the pod can knock on (15020 listens on every
/// address): they are bounded, so that they never take the descriptors the data path needs.
@Suite struct SideDoorTests {
    /// 1,100 silent connections held to the telemetry port from outside, with the proxy limited to 1,024
    /// descriptors: the telemetry server holds at most its cap of them, and the app's connections still go through.
    @Test func heldTelemetryConnectionsLeaveTheDataPathItsDescriptors() async throws {
        try await PodTopology.with { topology in
            try topology.sidecarInit("install")
            let proxy = try topology.startProxy(openFiles: 1024)
            try topology.startServer(inPod: false, port: 9000)
            let held = try topology.start(
                name: "hold-open",
                topology.inPeer([
                    "/usr/bin/python3", "-B", Binaries.peer, "hold-open", topology.podIPv4, "15020", "--connections",
                    "1100", "--timeout", "1",
                ]))
            try held.waitForOutput("HOLDING", timeout: .seconds(60))
            let descriptors = try FileManager.default.contentsOfDirectory(atPath: "/proc/\(proxy.processID)/fd").count
            #expect(descriptors < 200, "the proxy holds \(descriptors) descriptors")
            #expect(try PeerClient.reaches(topology.inPod([]), host: topology.upstreamIPv4, port: 9000))
            #expect(try PeerClient.reaches(topology.inPod([]), host: topology.upstreamIPv4, port: 9000))
            // The kubelet's probe still gets in: it takes the place of the held connection that waited longest.
            let probe = try Shell.run(
                topology.inPeer(["curl", "-s", "--max-time", "3", "http://\(topology.podIPv4):15020/healthz/live"]))
            #expect(probe.stdout == "live\n")
            held.closeInput()
        }
    }

    /// A connection to the telemetry port that sends no request is closed after the request timeout (10 s), and so
    /// is a keep-alive connection idle after its answer.
    @Test func aSilentTelemetryConnectionIsClosedAfterTheRequestTimeout() async throws {
        try await PodTopology.with { topology in
            try topology.sidecarInit("install")
            try topology.startProxy()
            let probe = try PeerClient.probe(
                topology.inPeer([]), host: topology.podIPv4, port: 15020, timeout: 15)
            #expect(probe.outcome == "eof")
            #expect(probe.elapsed > 9.5 && probe.elapsed < 12, "closed after \(probe.elapsed) s")
        }
    }
}
