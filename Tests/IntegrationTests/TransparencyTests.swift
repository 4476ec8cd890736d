import Foundation
import Testing

/// The app and its peers change nothing, yet every TCP connection passes through the proxy intact.
@Suite struct TransparencyTests {
    /// The upstream sees the address and port the app dialled, and the kernel's redirect rule counted the connection.
    @Test(arguments: [false, true])
    func outboundConnectionReachesItsOriginalDestination(ipv6: Bool) async throws {
        try await PodTopology.with { topology in
            try topology.sidecarInit("install")
            try topology.startProxy()
            try topology.startServer(inPod: false, port: 9000)
            let upstream = ipv6 ? topology.upstreamIPv6 : topology.upstreamIPv4

            let result = try PeerClient.call(topology.inPod([]), host: upstream, port: 9000)

            #expect(result.hello.local == upstream)
            #expect(result.hello.localPort == 9000)
            #expect(result.hello.peer == (ipv6 ? topology.podIPv6 : topology.podIPv4))
            #expect(result.server.sha256 == result.sentSha256)
            #expect(result.receivedSha256 == result.expectedSha256)
            #expect(try topology.rulePackets(comment: "sidecar: redirect outbound tcp") > 0)
        }
    }

    /// A peer's connection to the app is redirected to the proxy, which delivers it from inside the pod: the app sees
    /// 127.0.0.6 (IPv4, as with Istio) or the pod's own address (IPv6) as its peer, not the remote one.
    @Test(arguments: [false, true])
    func inboundConnectionReachesTheAppThroughTheProxy(ipv6: Bool) async throws {
        try await PodTopology.with { topology in
            try topology.sidecarInit("install")
            try topology.startProxy()
            try topology.startServer(inPod: true, port: 8080)
            let podAddress = ipv6 ? topology.podIPv6 : topology.podIPv4

            let result = try PeerClient.call(topology.inPeer([]), host: podAddress, port: 8080)

            #expect(result.hello.local == podAddress)
            #expect(result.hello.localPort == 8080)
            #expect(result.hello.peer == (ipv6 ? podAddress : "127.0.0.6"), "the app's peer is the proxy in the pod")
            #expect(result.server.sha256 == result.sentSha256)
            #expect(result.receivedSha256 == result.expectedSha256)
        }
    }

    /// 64 MiB up, a half-close, then 64 MiB down on the same connection: every byte arrives, in order.
    @Test func largeTransfersSurviveAHalfCloseInBothDirections() async throws {
        try await PodTopology.with { topology in
            try topology.sidecarInit("install")
            try topology.startProxy()
            try topology.startServer(inPod: false, port: 9000)
            let size = 64 * 1024 * 1024

            let result = try PeerClient.call(
                topology.inPod([]), host: topology.upstreamIPv4, port: 9000, send: size, expect: size)

            #expect(result.server.received == size)
            #expect(result.server.sha256 == result.sentSha256)
            #expect(result.received == size)
            #expect(result.receivedSha256 == result.expectedSha256)
        }
    }

    /// The upstream refuses: the proxy resets the app's connection at once instead of leaving it hanging.
    @Test func aRefusedUpstreamFailsTheClientWithinASecond() async throws {
        try await PodTopology.with { topology in
            try topology.sidecarInit("install")
            try topology.startProxy()

            let probe = try PeerClient.probe(topology.inPod([]), host: topology.upstreamIPv4, port: 9999)

            #expect(probe.outcome == "reset")
            #expect(probe.elapsed < 1.0)
        }
    }

    /// The app calling its own address is captured outbound, then sent through the inbound path like any caller,
    /// instead of looping through the outbound listener.
    @Test func aSelfCallThroughThePodAddressTakesTheInboundPath() async throws {
        try await PodTopology.with { topology in
            try topology.sidecarInit("install")
            try topology.startProxy()
            try topology.startServer(inPod: true, port: 8080)

            let result = try PeerClient.call(topology.inPod([]), host: topology.podIPv4, port: 8080)

            #expect(result.hello.local == topology.podIPv4)
            #expect(result.hello.peer == "127.0.0.6", "delivered by the inbound path")
            #expect(result.receivedSha256 == result.expectedSha256)
            #expect(try topology.rulePackets(comment: "sidecar: redirect outbound tcp") > 0)
            #expect(try topology.rulePackets(comment: "sidecar: self-call to the inbound path") > 0)
        }
    }

    /// The app dials a service address that the cluster (here the peer, as kube-proxy would: DNAT to the pod, with
    /// masquerade for the hairpin) sends back to this very pod: the connection comes back in through the inbound path.
    @Test func aServiceAddressThatLandsBackOnThePodTakesTheInboundPath() async throws {
        try await PodTopology.with { topology in
            try topology.sidecarInit("install")
            try topology.startProxy()
            try topology.startServer(inPod: true, port: 8080)
            try Shell.run(topology.inPeer(["sysctl", "-qw", "net.ipv4.ip_forward=1"]))
            try Shell.run(
                topology.inPeer(["nft", "-f", "-"]),
                stdin: """
                    table ip service {
                        chain prerouting { type nat hook prerouting priority dstnat; ip daddr 10.77.2.10 tcp dport 80 dnat to \(topology.podIPv4):8080; }
                        chain postrouting { type nat hook postrouting priority srcnat; ip daddr \(topology.podIPv4) masquerade; }
                    }
                    """)

            let result = try PeerClient.call(topology.inPod([]), host: "10.77.2.10", port: 80)

            #expect(result.hello.local == topology.podIPv4)
            #expect(result.hello.localPort == 8080)
            #expect(result.hello.peer == "127.0.0.6", "delivered by the inbound path")
            #expect(try topology.rulePackets(comment: "sidecar: redirect inbound tcp") > 0)
        }
    }

    /// The upstream never answers (its SYNs are dropped): the client is reset once the 1 s connect timeout runs out,
    /// instead of hanging for the kernel's minutes of SYN retries.
    @Test func aSilentUpstreamFailsTheClientAfterTheConnectTimeout() async throws {
        try await PodTopology.with { topology in
            try topology.sidecarInit("install")
            try topology.startProxy()
            try Shell.run(
                topology.inPeer(["nft", "-f", "-"]),
                stdin: """
                    table inet blackhole {
                        chain input { type filter hook input priority 0; tcp dport 9100 drop; }
                    }
                    """)

            let probe = try PeerClient.probe(topology.inPod([]), host: topology.upstreamIPv4, port: 9100)

            #expect(probe.outcome == "reset")
            #expect(probe.elapsed >= 0.9 && probe.elapsed < 3.0, "\(probe.elapsed) s")
        }
    }

    /// The upstream resets mid-stream: the app sees a reset too, never an orderly end that would make a truncated
    /// response look complete; the proxy says why the connection ended (debug) and counts it.
    @Test func anUpstreamResetReachesTheAppAsAReset() async throws {
        try await PodTopology.with { topology in
            try topology.sidecarInit("install")
            let proxy = try topology.startProxy(arguments: ["--log-level", "debug"])
            try topology.startServer(inPod: false, port: 9000, resettingEachConnection: true)

            #expect {
                try PeerClient.call(topology.inPod([]), host: topology.upstreamIPv4, port: 9000)
            } throws: { error in
                (error as? PeerClient.CallError)?.error == "reset"
            }
            // A reset that lands before the proxy saw its connect complete is a failed connect instead (counted as
            // refused): call again until one reset a relayed connection.
            for _ in 0..<10 where !proxy.output.contains("connection closed on an error") {
                _ = try? PeerClient.call(topology.inPod([]), host: topology.upstreamIPv4, port: 9000)
                usleep(100_000)
            }
            #expect(proxy.output.contains("connection closed on an error"), "\(proxy.output)")
            let metrics = try topology.askProxy("/metrics")
            #expect(
                metrics.contains("sidecar_connection_errors_total{direction=\"outbound\",error=\"reset\"}"),
                "\(metrics)")
        }
    }

    /// Dialling the outbound listener directly would relay to itself; the proxy refuses and keeps serving.
    @Test func aConnectionStraightToTheOutboundListenerIsRefused() async throws {
        try await PodTopology.with { topology in
            try topology.sidecarInit("install")
            let proxy = try topology.startProxy()
            try topology.startServer(inPod: false, port: 9000)

            for host in ["127.0.0.1", "::1"] {
                let probe = try PeerClient.probe(topology.inPod([]), host: host, port: 15001)
                #expect(probe.outcome == "reset", "\(host)")
            }
            #expect(proxy.output.contains("original destination is the proxy itself"))
            let result = try PeerClient.call(topology.inPod([]), host: topology.upstreamIPv4, port: 9000)
            #expect(result.hello.local == topology.upstreamIPv4)
        }
    }
}
