import Foundation
import Testing

/// Limits: beyond `maxConnections` to a matching destination a new connection is refused at once, and a place that
/// frees up is taken again; over a rate, HTTP requests get 429 and TCP connections are refused; beyond `maxRequests`
/// or `maxPendingRequests`, HTTP requests get 503. Refusals are immediate, never queued.
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

    /// A reload that edits a limit keeps its counts by the entry's name: two connections held under `maxConnections:
    /// 2`, then an edit to 3 (and a rate added) lets one more in, not three.
    @Test func anEditedLimitKeepsItsCounts() async throws {
        try await PodTopology.with { topology in
            try topology.sidecarInit("install")
            let limit = { (extra: String) in "limits: [ { name: held, ports: [9000]\(extra) } ]" }
            let proxy = try topology.startProxy(configuration: limit(", maxConnections: 2"))
            try topology.startServer(inPod: false, port: 9000)
            let held = try (0..<2).map { _ in try topology.startHeldCall(port: 9000, size: 1000) }

            _ = try topology.writeReadableFile(
                named: "\(topology.pod).yaml", limit(", maxConnections: 3, requestsPerSecond: 100"))
            proxy.signal(SIGHUP)
            try proxy.waitForOutput("generation=2")
            let third = try topology.startHeldCall(port: 9000, size: 1000)
            let fourth = try PeerClient.probe(topology.inPod([]), host: topology.upstreamIPv4, port: 9000)
            #expect(fourth.outcome == "reset", "the edit let a second quota in")
            for call in held + [third] { call.closeInput() }
        }
    }

    /// A rate of one per five seconds with a burst of three: three requests pass, the next get 429 with a
    /// `Retry-After`, on the same keep-alive connection, which goes on serving.
    @Test func httpRequestsOverTheRateGet429() async throws {
        try await PodTopology.with { topology in
            try topology.sidecarInit("install")
            try topology.startProxy(
                configuration: "limits: [ { name: api-rate, ports: [9080], requestsPerSecond: 0.2, burst: 3 } ]")
            try topology.startHTTPServer(port: 9080)
            let responses = try PeerClient.httpRequests(
                topology.inPod([]), host: topology.upstreamIPv4, port: 9080,
                ["GET /1", "GET /2", "POST /3 1000", "GET /4", "POST /5 1000"])
            #expect(responses.map(\.status) == [200, 200, 200, 429, 429])
            #expect(responses.prefix(3).compactMap { $0.echo?.path } == ["/1", "/2", "/3"])
            let refused = try #require(responses.last)
            #expect(refused.text == "request rate limit reached: limit api-rate\n")
            let retryAfter = try #require(refused.retryAfter.flatMap { Int($0) })
            #expect((1...5).contains(retryAfter))
        }
    }

    /// HTTP/2: each stream takes a token; the stream over the rate gets 429 on its own, the others pass.
    @Test func http2StreamsOverTheRateGet429() async throws {
        try await PodTopology.with { topology in
            try topology.sidecarInit("install")
            try topology.startProxy(
                configuration: "limits: [ { name: rpc-rate, ports: [9443], requestsPerSecond: 0.2, burst: 2 } ]")
            try topology.startHTTP2Server(port: 9443)
            let base = "http://\(topology.upstreamIPv4):9443"
            let calls = try Shell.run(
                topology.inPod(["nghttp", "-nv", "--timeout=10", "\(base)/a", "\(base)/b", "\(base)/c"]))
            let streams = HTTP2Trace(calls.stdout)
            let statuses = ["/a", "/b", "/c"].compactMap { streams.status(of: $0) }
            #expect(statuses.sorted() == [200, 200, 429], "\(calls.stdout)")
            let limited = try #require(["/a", "/b", "/c"].first { streams.status(of: $0) == 429 })
            #expect(streams.field("retry-after", of: limited).flatMap { Int($0) }.map { (1...5).contains($0) } == true)
            #expect(streams.connections == 1)
        }
    }

    /// Not HTTP: each new connection takes a token, and one over the rate is reset at once.
    @Test func tcpConnectionsOverTheRateAreRefused() async throws {
        try await PodTopology.with { topology in
            try topology.sidecarInit("install")
            try topology.startProxy(
                configuration: "limits: [ { name: tcp-rate, ports: [9000], requestsPerSecond: 0.2, burst: 2 } ]")
            try topology.startServer(inPod: false, port: 9000)
            #expect(try PeerClient.reaches(topology.inPod([]), host: topology.upstreamIPv4, port: 9000))
            #expect(try PeerClient.reaches(topology.inPod([]), host: topology.upstreamIPv4, port: 9000))
            let third = try PeerClient.probe(topology.inPod([]), host: topology.upstreamIPv4, port: 9000)
            #expect(third.outcome == "reset")
            #expect(third.elapsed < 1.0)
        }
    }

    /// With one request in flight under `maxRequests: 1`, another gets 503 at once; once the first is answered,
    /// the next passes.
    @Test func requestsBeyondMaxRequestsGet503() async throws {
        try await PodTopology.with { topology in
            try topology.sidecarInit("install")
            let proxy = try topology.startProxy(
                configuration: "limits: [ { name: one-at-a-time, ports: [9080], maxRequests: 1 } ]")
            try topology.startHTTPServer(port: 9080)
            let slow = try topology.start(
                name: "slow-request",
                topology.inPod([
                    "/usr/bin/python3", "-B", Binaries.peer, "http-requests", topology.upstreamIPv4, "9080",
                    "GET /slow",
                ]))
            // The slow request is in flight once the proxy has logged its connection's upstream.
            try waitUntil { try topology.askProxy("/connections").contains(":9080") }
            usleep(300_000)
            let during = try PeerClient.httpRequests(
                topology.inPod([]), host: topology.upstreamIPv4, port: 9080, ["GET /during"])
            #expect(during.map(\.status) == [503])
            #expect(during.first?.text == "concurrent requests limit reached: limit one-at-a-time\n")
            #expect(slow.waitForExit(timeout: .seconds(10)) == 0)
            #expect(slow.output.contains("\"status\": 200"))
            let after = try PeerClient.httpRequests(
                topology.inPod([]), host: topology.upstreamIPv4, port: 9080, ["GET /after"])
            #expect(after.map(\.status) == [200], "the place was given back: \(proxy.output.suffix(2000))")
        }
    }

    /// Requests waiting for an upstream that does not answer (its SYNs are dropped) count as pending: beyond
    /// `maxPendingRequests: 1` the next gets 503 at once, and the waiting one 502 after the connect timeout.
    @Test func requestsBeyondMaxPendingRequestsGet503() async throws {
        try await PodTopology.with { topology in
            try topology.sidecarInit("install")
            try topology.blackHole(port: 9081)
            try topology.startProxy(
                configuration: """
                    timeouts: { connect: 2s }
                    limits: [ { name: queue, ports: [9081], maxPendingRequests: 1 } ]
                    """)
            let waiting = try topology.start(
                name: "waiting-request",
                topology.inPod([
                    "/usr/bin/python3", "-B", Binaries.peer, "http-requests", topology.upstreamIPv4, "9081",
                    "GET /wait",
                ]))
            usleep(500_000)
            let started = ContinuousClock.now
            let refused = try PeerClient.httpRequests(
                topology.inPod([]), host: topology.upstreamIPv4, port: 9081, ["GET /next"])
            #expect(refused.map(\.status) == [503])
            #expect(refused.first?.text == "pending requests limit reached: limit queue\n")
            #expect(ContinuousClock.now - started < .seconds(1))
            #expect(waiting.waitForExit(timeout: .seconds(10)) == 0)
            #expect(waiting.output.contains("\"status\": 502"), "\(waiting.output)")
        }
    }
}
