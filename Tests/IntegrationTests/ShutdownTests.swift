import Foundation
import Testing

/// SIGTERM or `POST /drain` drains: readiness drops, no new connections, open ones finish, then exit 0. A second
/// SIGTERM ends the drain at once; `POST /quitquitquit` exits without one.
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

    @Test func drainOverTheAdminAPIDoesWhatSIGTERMDoes() async throws {
        try await PodTopology.with { topology in
            try topology.sidecarInit("install")
            let proxy = try topology.startProxy()
            try topology.startServer(inPod: false, port: 9000)
            let held = try topology.startHeldCall(port: 9000, size: 4096)

            let drain = try Shell.run(
                topology.inPod(["curl", "-s", "--max-time", "5", "-X", "POST", "http://127.0.0.1:15000/drain"]))
            #expect(drain.stdout == "draining\n")
            try proxy.waitForOutput("] draining")
            let ready = try Shell.run(
                topology.inPod([
                    "curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "5",
                    "http://127.0.0.1:15020/healthz/ready",
                ]))
            #expect(ready.stdout == "503")
            let fresh = try PeerClient.probe(topology.inPod([]), host: topology.upstreamIPv4, port: 9000)
            #expect(fresh.outcome == "refused")

            held.closeInput()
            #expect(held.waitForExit(timeout: .seconds(15)) == 0)
            #expect(proxy.waitForExit(timeout: .seconds(10)) == 0)
        }
    }

    @Test func aSecondSIGTERMEndsTheDrainAtOnce() async throws {
        try await PodTopology.with { topology in
            try topology.sidecarInit("install")
            let proxy = try topology.startProxy()
            try topology.startServer(inPod: false, port: 9000)
            let held = try topology.startHeldCall(port: 9000, size: 4096)

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
            try topology.sidecarInit("install")
            let proxy = try topology.startProxy()
            try topology.startServer(inPod: false, port: 9000)
            let held = try topology.startHeldCall(port: 9000, size: 4096)

            try Shell.run(
                topology.inPod([
                    "curl", "-s", "--max-time", "5", "-X", "POST", "http://127.0.0.1:15000/quitquitquit",
                ]))
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

            let changed = try Shell.run(
                topology.inPod([
                    "curl", "-s", "--max-time", "5", "-X", "POST", "http://127.0.0.1:15000/logging?level=debug",
                ]))
            #expect(changed.stdout == "log level: debug\n")
            #expect(try PeerClient.reaches(topology.inPod([]), host: topology.upstreamIPv4, port: 9000))
            try proxy.waitForOutput("connection forwarded")
            let refused = try Shell.run(
                topology.inPod([
                    "curl", "-s", "-w", "%{http_code}", "--max-time", "5", "-X", "POST",
                    "http://127.0.0.1:15000/logging?level=loud",
                ]))
            #expect(refused.stdout.hasSuffix("400"))
        }
    }
}
