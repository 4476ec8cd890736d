import Foundation
import Testing

/// SIGTERM or `POST /drain` drains: readiness drops, no new connections, open ones finish, then exit 0. A second
/// SIGTERM ends the drain at once; `POST /quitquitquit` exits without one.
@Suite struct ShutdownTests {
    @Test func sigtermLetsAnOpenConnectionFinishThenExitsZero() async throws {
        try await PodTopology.with { topology in
            let (proxy, held) = try Self.proxyWithAHeldConnection(topology)

            proxy.signal(SIGTERM)
            try proxy.waitForOutput("] draining")
            #expect(proxy.isRunning, "the held connection keeps the proxy draining")
            let fresh = try PeerClient.probe(topology.inPod([]), host: topology.upstreamIPv4, port: 9000)
            #expect(fresh.outcome == "refused", "the listeners are closed")

            let result = try PeerClient.finishHeldCall(held, timeout: .seconds(15))
            #expect(result.server.sha256 == result.sentSha256)
            #expect(result.receivedSha256 == result.expectedSha256)
            #expect(proxy.waitForExit(timeout: .seconds(10)) == 0)
        }
    }

    @Test func drainOverTheAdminAPIDoesWhatSIGTERMDoes() async throws {
        try await PodTopology.with { topology in
            let (proxy, held) = try Self.proxyWithAHeldConnection(topology)

            #expect(try topology.askProxy("/drain", method: "POST") == "draining\n")
            try proxy.waitForOutput("] draining")
            #expect(try topology.askProxy("/healthz/ready", port: 15020, statusOnly: true) == "503")
            let fresh = try PeerClient.probe(topology.inPod([]), host: topology.upstreamIPv4, port: 9000)
            #expect(fresh.outcome == "refused")

            held.closeInput()
            #expect(held.waitForExit(timeout: .seconds(15)) == 0)
            #expect(proxy.waitForExit(timeout: .seconds(10)) == 0)
        }
    }

    @Test func aSecondSIGTERMEndsTheDrainAtOnce() async throws {
        try await PodTopology.with { topology in
            let (proxy, held) = try Self.proxyWithAHeldConnection(topology)

            proxy.signal(SIGTERM)
            try proxy.waitForOutput("] draining")
            let started = ContinuousClock.now
            proxy.signal(SIGTERM)
            #expect(proxy.waitForExit(timeout: .seconds(5)) == 0, "still draining after a second SIGTERM")
            #expect(ContinuousClock.now - started < .seconds(5))
            held.closeInput()
            _ = held.waitForExit(timeout: .seconds(10))
        }
    }

    @Test func quitquitquitExitsWithoutADrain() async throws {
        try await PodTopology.with { topology in
            let (proxy, held) = try Self.proxyWithAHeldConnection(topology)

            try topology.askProxy("/quitquitquit", method: "POST")
            #expect(proxy.waitForExit(timeout: .seconds(5)) == 0)
            held.closeInput()
            _ = held.waitForExit(timeout: .seconds(10))
        }
    }

    /// `POST /logging?level=debug` turns on debug lines at once; an unknown level is refused.
    @Test func theLogLevelChangesWhileRunning() async throws {
        try await PodTopology.with { topology in
            try topology.sidecarInit("install")
            let proxy = try topology.startProxy()
            try topology.startServer(inPod: false, port: 9000)
            #expect(try PeerClient.reaches(topology.inPod([]), host: topology.upstreamIPv4, port: 9000))
            #expect(!proxy.output.contains("connection forwarded"))

            #expect(try topology.askProxy("/logging?level=debug", method: "POST") == "log level: debug\n")
            #expect(try PeerClient.reaches(topology.inPod([]), host: topology.upstreamIPv4, port: 9000))
            try proxy.waitForOutput("connection forwarded")
            #expect(try topology.askProxy("/logging?level=loud", method: "POST", statusOnly: true) == "400")
        }
    }

    /// Rules installed, the proxy running, and one connection through it held open (4 KiB each way once released).
    private static func proxyWithAHeldConnection(_ topology: PodTopology) throws -> (
        proxy: BackgroundProcess, held: BackgroundProcess
    ) {
        try topology.sidecarInit("install")
        let proxy = try topology.startProxy()
        try topology.startServer(inPod: false, port: 9000)
        return (proxy, try topology.startHeldCall(port: 9000, size: 4096))
    }
}
