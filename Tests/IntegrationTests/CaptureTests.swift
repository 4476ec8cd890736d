import Testing

/// The rules really capture: without the proxy the app's connections fail, and without the rules they go direct.
@Suite struct CaptureTests {
    @Test func withoutAProxyCapturedTrafficFailsAndAfterUninstallItFlowsDirectly() async throws {
        try await PodTopology.with { topology in
            try topology.startServer(inPod: false, port: 9000)
            try topology.sidecarInit("install")

            #expect(throws: PeerClient.CallError.self) {
                try PeerClient.call(topology.inPod([]), host: topology.upstreamIPv4, port: 9000)
            }
            let refused = try PeerClient.probe(topology.inPod([]), host: topology.upstreamIPv4, port: 9000)
            #expect(refused.outcome == "refused", "redirected to 127.0.0.1:15001, where nothing listens")

            try topology.sidecarInit("uninstall")
            let direct = try PeerClient.call(topology.inPod([]), host: topology.upstreamIPv4, port: 9000)
            #expect(direct.hello.local == topology.upstreamIPv4)
            #expect(direct.receivedSha256 == direct.expectedSha256)
        }
    }
}
