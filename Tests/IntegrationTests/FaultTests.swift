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

    /// The app sends its FIN before the upstream has answered the proxy's SYN: the FIN waits for the connect (a
    /// shutdown on a socket still connecting would abort it), and the upstream's greeting reaches the app.
    @Test func aFINSentWhileTheUpstreamConnectsWaitsForIt() async throws {
        try await PodTopology.with { topology in
            try topology.sidecarInit("install")
            try topology.startProxy(configuration: "timeouts: { connect: 5s }")
            try topology.startServer(inPod: false, port: 9083)
            try topology.dropFirstSYN(port: 9083)
            let probe = try PeerClient.probe(
                topology.inPod([]), host: topology.upstreamIPv4, port: 9083, halfClose: true)
            #expect(probe.outcome == "data")
            #expect(probe.elapsed > 0.9, "the first SYN was not dropped: answered after \(probe.elapsed) s")
        }
    }

    /// Neither side says anything: the proxy closes the connection after the idle timeout, so a vanished peer does
    /// not hold a connection (and its descriptors) for ever.
    @Test func aSilentConnectionIsClosedAfterTheIdleTimeout() async throws {
        try await PodTopology.with { topology in
            try topology.sidecarInit("install")
            try topology.startProxy(configuration: "timeouts: { idle: 1s }")
            let server = try topology.start(
                name: "echo-server",
                topology.inPeer(["/usr/bin/python3", "-B", Binaries.peer, "echo-serve", "--port", "9000"]))
            try server.waitForOutput("READY")
            let probe = try PeerClient.probe(topology.inPod([]), host: topology.upstreamIPv4, port: 9000)
            #expect(probe.outcome == "eof")
            #expect(probe.elapsed > 0.9 && probe.elapsed < 2.5, "closed after \(probe.elapsed) s")
        }
    }

    /// A connection that became a tunnel (an upgrade the upstream accepted with 101) is closed after the idle
    /// timeout like any relayed connection, not held for ever once its HTTP handling has left.
    @Test func aSilentTunnelIsClosedAfterTheIdleTimeout() async throws {
        try await PodTopology.with { topology in
            try topology.sidecarInit("install")
            // An HTTP rule in reach, so the connection is proxied request by request before it becomes a tunnel.
            try topology.startProxy(
                configuration: """
                    timeouts: { idle: 1s }
                    policy: { outbound: { rules: [ { action: deny, http: { pathPrefix: /admin } } ] } }
                    """)
            try topology.startHTTPServer(port: 9080)
            let tunnel = try PeerClient.httpUpgrade(
                topology.inPod([]), host: topology.upstreamIPv4, port: 9080, hold: true, timeout: 6)
            #expect(tunnel.status == 101 && tunnel.echo == "ping")
            let closedAfter = try #require(tunnel.closedAfter, "the tunnel was still open after 6 s")
            #expect(closedAfter > 0.9 && closedAfter < 2.5, "closed after \(closedAfter) s")
        }
    }

    /// Both of a relayed connection's sockets in the proxy carry TCP keepalive with `timeouts.keepalive`, so a peer
    /// that vanished without a FIN or a reset is found out: the kernel shows a keepalive timer on them, and on none
    /// of the app's own sockets.
    @Test func relayedSocketsHaveTCPKeepalive() async throws {
        try await PodTopology.with { topology in
            try topology.sidecarInit("install")
            try topology.startProxy(configuration: "timeouts: { keepalive: 45s }")
            try topology.startServer(inPod: false, port: 9000)
            let held = try topology.startHeldCall(port: 9000, size: 1000)
            let sockets = try Shell.run(
                ["ip", "netns", "exec", topology.pod, "ss", "-tnoH", "state", "established"]
            ).stdout.split(separator: "\n").map(String.init)
            held.closeInput()
            // Accepted by the proxy (its end on the outbound listener), and dialed by it (to the upstream).
            let accepted = sockets.filter { $0.contains("127.0.0.1:15001 ") }
            let dialed = sockets.filter { $0.contains("\(topology.upstreamIPv4):9000") && !$0.contains(":15001") }
            #expect(accepted.count == 1 && accepted.allSatisfy { $0.contains("timer:(keepalive,") }, "\(sockets)")
            #expect(dialed.count == 2, "\(sockets)")
            #expect(dialed.filter { $0.contains("timer:(keepalive,") }.count == 1, "\(sockets)")
            #expect(sockets.contains { $0.contains("timer:(keepalive,4") }, "\(sockets)")
        }
    }
}

/// The proxy's own resources under load: descriptors and memory come back to where they were, a slow reader does not
/// make it buffer, and running out of descriptors is survived. Serialized: each measures one proxy's process while
/// it works hard, and two at once on two cores would measure each other.
@Suite(.serialized) struct ResourceTests {
    @Test func twoThousandConcurrentConnectionsGiveTheirDescriptorsBack() async throws {
        try await PodTopology.with { topology in
            let proxy = try start(in: topology)
            let baseline = try Self.openDescriptors(of: proxy)
            let calls = try topology.start(
                name: "hold-calls",
                topology.inPod(
                    openFiles: 8192,
                    [
                        "/usr/bin/python3", "-B", Binaries.peer, "hold-calls", topology.upstreamIPv4, "9000",
                        "--connections", "2000",
                    ]))
            try calls.waitForOutput("echoed", timeout: .seconds(60))
            #expect(calls.output.contains("\"echoed\": 2000, \"failed\": 0"), "\(calls.output)")
            let held = try Self.openDescriptors(of: proxy)
            #expect(held >= baseline + 4000, "two descriptors per connection while held: \(held)")
            calls.closeInput()
            #expect(calls.waitForExit(timeout: .seconds(30)) == 0)
            let after = try Self.settled { try Self.openDescriptors(of: proxy) <= baseline }
            let left = try Self.openDescriptors(of: proxy)
            #expect(after, "descriptors back to \(baseline): \(left)")
        }
    }

    /// 100,000 connections, four clients at a time: no descriptor is left behind, and memory stays where the first
    /// thousands left it.
    @Test func aHundredThousandShortConnectionsLeaveNothingBehind() async throws {
        try await PodTopology.with { topology in
            let proxy = try start(in: topology)
            let warmUp = try run(topology, clients: 2, connectionsEach: 2_500)
            #expect(warmUp.failed == 0)
            let descriptors = try Self.openDescriptors(of: proxy)
            let memory = try Self.residentKiB(of: proxy)
            let load = try run(topology, clients: 4, connectionsEach: 25_000)
            #expect(load.ok == 100_000 && load.failed == 0, "\(load)")
            let settled = try Self.settled { try Self.openDescriptors(of: proxy) <= descriptors }
            let left = try Self.openDescriptors(of: proxy)
            #expect(settled, "descriptors \(left), were \(descriptors)")
            let grown = try Self.residentKiB(of: proxy) - memory
            #expect(grown < 16 * 1024, "resident memory grew by \(grown) KiB over 100,000 connections")
            print("100,000 connections in \(load.elapsed) s; resident memory \(memory) KiB, then +\(grown) KiB")
        }
    }

    /// The upstream sends 1 GiB as fast as it can; the app reads it at 128 MiB/s. Back-pressure holds the upstream
    /// back, so the proxy's memory stays flat instead of taking up what the reader has not read.
    @Test func aSlowReaderOfAGibibyteKeepsMemoryBounded() async throws {
        try await PodTopology.with { topology in
            try topology.sidecarInit("install")
            let proxy = try topology.startProxy(arguments: ["--access-log", "off"])
            let server = try topology.start(
                name: "blast-server",
                topology.inPeer([
                    "/usr/bin/python3", "-B", Binaries.peer, "blast-serve", "--port", "9005", "--bytes", "1073741824",
                ]))
            try server.waitForOutput("READY")
            let before = try Self.residentKiB(of: proxy)
            let reader = try topology.start(
                name: "slow-reader",
                topology.inPod([
                    "/usr/bin/python3", "-B", Binaries.peer, "slow-read", topology.upstreamIPv4, "9005", "--rate",
                    "128",
                ]))
            var peak = before
            while reader.isRunning {
                peak = max(peak, try Self.residentKiB(of: proxy))
                usleep(200_000)
            }
            #expect(reader.output.contains("\"received\": 1073741824"), "\(reader.output)")
            #expect(peak - before < 32 * 1024, "resident memory rose by \(peak - before) KiB while 1 GiB crossed")
            print("1 GiB read at 128 MiB/s: resident memory \(before) KiB, peak +\(peak - before) KiB")
        }
    }

    /// With its descriptors capped, the proxy cannot take every connection: the ones it cannot take wait or fail,
    /// the listener backs off a second at a time instead of spinning, and once descriptors are free it serves
    /// again.
    @Test func runningOutOfDescriptorsIsSurvived() async throws {
        try await PodTopology.with { topology in
            try topology.sidecarInit("install")
            try topology.startServer(inPod: false, port: 9001)
            let proxy = try topology.startProxy(arguments: ["--access-log", "off"], openFiles: 48)
            let server = try topology.start(
                name: "echo-server",
                topology.inPeer(["/usr/bin/python3", "-B", Binaries.peer, "echo-serve", "--port", "9000"]))
            try server.waitForOutput("READY")
            let calls = try topology.start(
                name: "hold-calls",
                topology.inPod([
                    "/usr/bin/python3", "-B", Binaries.peer, "hold-calls", topology.upstreamIPv4, "9000",
                    "--connections", "40", "--timeout", "3",
                ]))
            try calls.waitForOutput("echoed", timeout: .seconds(20))
            #expect(!calls.output.contains("\"failed\": 0"), "some connections cannot be served: \(calls.output)")
            #expect(proxy.output.contains("Too many open files"))
            let cpu = try Self.cpuSeconds(of: proxy)
            usleep(2_000_000)
            let spent = try Self.cpuSeconds(of: proxy) - cpu
            #expect(spent < 0.5, "no busy loop while out of descriptors: \(spent) s of CPU in 2 s")
            calls.closeInput()
            #expect(calls.waitForExit(timeout: .seconds(10)) == 0)
            // The proxy sees the held connections close one by one; until their descriptors are free, a call may
            // still be reset (its upstream socket cannot be opened), so only a call that goes through ends the wait.
            let served = try Self.settled {
                (try? PeerClient.call(topology.inPod([]), host: topology.upstreamIPv4, port: 9001))?.server.received
                    == 1000
            }
            #expect(served, "served again once descriptors were free")
            #expect(proxy.isRunning)
        }
    }

    private func start(in topology: PodTopology) throws -> BackgroundProcess {
        try topology.sidecarInit("install")
        let server = try topology.start(
            name: "echo-server",
            topology.inPeer(["/usr/bin/python3", "-B", Binaries.peer, "echo-serve", "--port", "9000"]))
        try server.waitForOutput("READY")
        let proxy = try topology.startProxy(arguments: ["--access-log", "off"])
        let comm = try String(contentsOfFile: "/proc/\(proxy.processID)/comm", encoding: .utf8)
        #expect(comm.hasPrefix("sidecar-proxy"), "measuring the proxy itself, not a wrapper: \(comm)")
        return proxy
    }

    struct Tally: Decodable {
        var ok: Int
        var failed: Int
        var elapsed: Double
    }

    /// `clients` processes making `connectionsEach` short connections in a row, all at once.
    private func run(_ topology: PodTopology, clients: Int, connectionsEach: Int) throws -> Tally {
        let processes = try (0..<clients).map { index in
            try topology.start(
                name: "sequential-\(index)",
                topology.inPod([
                    "/usr/bin/python3", "-B", Binaries.peer, "sequential-calls", topology.upstreamIPv4, "9000",
                    "--count", "\(connectionsEach)",
                ]))
        }
        var total = Tally(ok: 0, failed: 0, elapsed: 0)
        for process in processes {
            #expect(process.waitForExit(timeout: .seconds(300)) == 0, "\(process.output)")
            let tally = try JSONDecoder().decode(Tally.self, from: Data(process.output.utf8))
            total.ok += tally.ok
            total.failed += tally.failed
            total.elapsed = max(total.elapsed, tally.elapsed)
        }
        return total
    }

    private static func openDescriptors(of process: BackgroundProcess) throws -> Int {
        try FileManager.default.contentsOfDirectory(atPath: "/proc/\(process.processID)/fd").count
    }

    private static func residentKiB(of process: BackgroundProcess) throws -> Int {
        let status = try String(contentsOfFile: "/proc/\(process.processID)/status", encoding: .utf8)
        let line = status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") } ?? ""
        return Int(line.split(separator: " ").dropFirst().first ?? "") ?? 0
    }

    /// User and system time the process has used.
    private static func cpuSeconds(of process: BackgroundProcess) throws -> Double {
        let stat = try String(contentsOfFile: "/proc/\(process.processID)/stat", encoding: .utf8)
        // Fields after the command name, which is in parentheses and may hold spaces.
        let fields = stat[stat.index(after: stat.lastIndex(of: ")")!)...].split(separator: " ")
        return ((Double(fields[11]) ?? 0) + (Double(fields[12]) ?? 0)) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    /// Whether `condition` holds within five seconds (closes and releases finish a moment after the peer's).
    private static func settled(_ condition: () throws -> Bool) throws -> Bool {
        for _ in 0..<50 {
            if try condition() { return true }
            usleep(100_000)
        }
        return false
    }
}
