import Foundation
import Testing

/// Every capture option proven by traffic. Without a proxy, a captured connection is refused (it is redirected to a
/// port nobody listens on) while an exempted one reaches its server directly.
@Suite struct CaptureOptionTests {
    @Test func anExcludedOutboundPortFlowsWhileOthersAreCaptured() async throws {
        try await PodTopology.with { topology in
            try topology.startServer(inPod: false, port: 9000)
            try topology.startServer(inPod: false, port: 9001)
            try topology.sidecarInit("install", "--exclude-outbound-ports", "22,9001-9005")

            #expect(try PeerClient.reaches(topology.inPod([]), host: topology.upstreamIPv4, port: 9001))
            #expect(try !PeerClient.reaches(topology.inPod([]), host: topology.upstreamIPv4, port: 9000))
        }
    }

    @Test func anExcludedOutboundCIDRFlowsWhileOthersAreCaptured() async throws {
        try await PodTopology.with { topology in
            try topology.startServer(inPod: false, port: 9000)
            try topology.sidecarInit(
                "install", "--exclude-outbound-cidrs", "\(topology.upstreamIPv4),192.0.2.0/24,fd00:99::/32")

            #expect(try PeerClient.reaches(topology.inPod([]), host: topology.upstreamIPv4, port: 9000))
            #expect(try !PeerClient.reaches(topology.inPod([]), host: topology.upstreamIPv6, port: 9000))
            #expect(try !PeerClient.reaches(topology.inPod([]), host: topology.peerIPv4, port: 9000))
        }
    }

    /// Only destinations inside the included CIDRs are captured; a family with none included is not captured.
    @Test func onlyIncludedCIDRsAreCaptured() async throws {
        try await PodTopology.with { topology in
            try topology.startServer(inPod: false, port: 9000)
            try topology.sidecarInit("install", "--include-outbound-cidrs", "10.77.1.0/24")

            #expect(try !PeerClient.reaches(topology.inPod([]), host: topology.upstreamIPv4, port: 9000))
            #expect(try PeerClient.reaches(topology.inPod([]), host: topology.peerIPv4, port: 9000))
            #expect(try PeerClient.reaches(topology.inPod([]), host: topology.upstreamIPv6, port: 9000))
        }
    }

    @Test func aSecondProxyUIDBypassesCapture() async throws {
        try await PodTopology.with { topology in
            try topology.startServer(inPod: false, port: 9000)
            try topology.sidecarInit("install", "--proxy-uid", "1337,1500")

            #expect(try PeerClient.reaches(topology.inPod(uid: 1500, []), host: topology.upstreamIPv4, port: 9000))
            #expect(try !PeerClient.reaches(topology.inPod(uid: 1000, []), host: topology.upstreamIPv4, port: 9000))
        }
    }

    @Test func aProxyGIDBypassesCapture() async throws {
        try await PodTopology.with { topology in
            try topology.startServer(inPod: false, port: 9000)
            try topology.sidecarInit("install")
            let appInProxyGroup = [
                "ip", "netns", "exec", topology.pod, "setpriv", "--reuid", "1000", "--regid", "1337", "--clear-groups",
            ]
            #expect(try PeerClient.reaches(appInProxyGroup, host: topology.upstreamIPv4, port: 9000))
            #expect(try !PeerClient.reaches(topology.inPod([]), host: topology.upstreamIPv4, port: 9000))
        }
    }

    /// An excluded interface is never captured, outbound (oifname) or inbound (iifname: the app sees the peer).
    @Test func anExcludedInterfaceIsNeverCaptured() async throws {
        try await PodTopology.with { topology in
            try topology.startServer(inPod: false, port: 9000)
            try topology.startServer(inPod: true, port: 8080)
            try topology.sidecarInit("install", "--exclude-interfaces", "\(topology.podLink),wg0")
            try topology.startProxy()

            let outbound = try PeerClient.call(topology.inPod([]), host: topology.upstreamIPv4, port: 9000)
            #expect(outbound.hello.peer == topology.podIPv4)
            #expect(try topology.rulePackets(comment: "sidecar: redirect outbound tcp") == 0)
            let inbound = try PeerClient.call(topology.inPeer([]), host: topology.podIPv4, port: 8080)
            #expect(inbound.hello.peer == topology.peerIPv4, "not delivered by the proxy")
        }
    }

    @Test func ipv4OnlyLeavesIPv6Uncaptured() async throws {
        try await PodTopology.with { topology in
            try topology.startServer(inPod: false, port: 9000)
            try topology.sidecarInit("install", "--ipv4-only")

            #expect(try PeerClient.reaches(topology.inPod([]), host: topology.upstreamIPv6, port: 9000))
            #expect(try !PeerClient.reaches(topology.inPod([]), host: topology.upstreamIPv4, port: 9000))
        }
    }

    /// With the proxy running, a captured inbound connection reaches the app from the proxy, while an excluded
    /// port (or one outside `--inbound-ports`) reaches it straight from the peer.
    @Test(arguments: [["--exclude-inbound-ports", "8081"], ["--inbound-ports", "8080,9000-9100"]])
    func inboundPortsOutsideCaptureReachTheAppDirectly(options: [String]) async throws {
        try await PodTopology.with { topology in
            try topology.startServer(inPod: true, port: 8080)
            try topology.startServer(inPod: true, port: 8081)
            try topology.sidecarInit(["install"] + options)
            try topology.startProxy()

            let direct = try PeerClient.call(topology.inPeer([]), host: topology.podIPv4, port: 8081)
            #expect(direct.hello.peer == topology.peerIPv4)
            let captured = try PeerClient.call(topology.inPeer([]), host: topology.podIPv4, port: 8080)
            #expect(captured.hello.peer == "127.0.0.6", "delivered by the proxy")
        }
    }

    /// DNS goes to the proxy's port 15053; the proxy's own queries (uid 1337) still reach the real server.
    @Test func redirectDNSSendsTheAppsQueriesToThePort15053() async throws {
        try await PodTopology.with { topology in
            try topology.startUDPServer(inPod: false, bind: topology.upstreamIPv4, port: 53, name: "upstream dns")
            try topology.startUDPServer(inPod: true, bind: "127.0.0.1", port: 15053, name: "sidecar dns")
            try topology.sidecarInit("install", "--redirect-dns")

            let app = try PeerClient.udpCall(topology.inPod([]), host: topology.upstreamIPv4, port: 53)
            #expect(app == "sidecar dns")
            // DNS over TCP goes to the same port: nothing listens there on TCP here, so the query is refused.
            let tcp = try PeerClient.probe(topology.inPod([]), host: topology.upstreamIPv4, port: 53)
            #expect(tcp.outcome == "refused")
            #expect(try topology.rulePackets(comment: "sidecar: redirect dns") >= 2)
            let proxy = try PeerClient.udpCall(topology.inPod(uid: 1337, []), host: topology.upstreamIPv4, port: 53)
            #expect(proxy == "upstream dns")
        }
    }

    /// The same settings from a YAML file and the environment; flags win over both.
    @Test func settingsFromAFileAndTheEnvironment() async throws {
        try await PodTopology.with { topology in
            try topology.startServer(inPod: false, port: 9000)
            try topology.startServer(inPod: false, port: 9001)
            let file = FileManager.default.temporaryDirectory.appendingPathComponent("capture-\(topology.pod).yaml")
            try "excludeOutboundPorts: [9000]\nproxyUid: [1337]\n".write(to: file, atomically: true, encoding: .utf8)
            defer { try? FileManager.default.removeItem(at: file) }

            try Shell.run([
                "env", "SIDECAR_EXCLUDE_OUTBOUND_PORTS=9001", Binaries.sidecarInit, "install", "--config", file.path,
                "--netns", topology.podNamespacePath,
            ])
            // The environment overrode the file: 9001 flows, 9000 is captured.
            #expect(try PeerClient.reaches(topology.inPod([]), host: topology.upstreamIPv4, port: 9001))
            #expect(try !PeerClient.reaches(topology.inPod([]), host: topology.upstreamIPv4, port: 9000))

            let plan = try Shell.run([
                "env", "SIDECAR_EXCLUDE_OUTBOUND_PORTS=9001", Binaries.sidecarInit, "plan", "--config", file.path,
                "--exclude-outbound-ports", "9002",
            ])
            #expect(plan.stdout.contains("#   excludeOutboundPorts: 9002 (flags)"))
            #expect(plan.stdout.contains("#   proxyUid: 1337 (config file \(file.path))"))
        }
    }
}
