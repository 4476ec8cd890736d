import Testing

/// `sidecar-status` reports the two halves an operator needs: rules installed, proxy ready.
@Suite struct StatusTests {
    @Test func exitCodeSaysWhetherInterceptionAndProxyAreBothUp() async throws {
        try await PodTopology.with { topology in
            let status = [Binaries.sidecarStatus, "--netns", topology.podNamespacePath]

            let nothing = try Shell.run(status, expectSuccess: false)
            #expect(nothing.status == 1)
            #expect(nothing.stdout.contains("degraded: interception, proxy"))

            try topology.sidecarInit("install")
            let rulesOnly = try Shell.run(status, expectSuccess: false)
            #expect(rulesOnly.status == 1)
            #expect(
                rulesOnly.stdout.contains(
                    "interception: installed (table inet sidecar, 2 chains, 10 rules), matches its plan"))
            #expect(rulesOnly.stdout.contains("degraded: proxy"))

            let proxy = try topology.startProxy()
            let healthy = try Shell.run(status, expectSuccess: false)
            #expect(healthy.status == 0, "\(healthy.stdout)")
            #expect(healthy.stdout.contains("proxy: ready"))

            // A rule slipped in by hand: the table no longer matches the plan install recorded.
            try Shell.run(
                [
                    "ip", "netns", "exec", topology.pod, "nft", "insert", "rule", "inet", "sidecar", "output", "tcp",
                    "dport",
                    "22", "return",
                ])
            let drifted = try Shell.run(status, expectSuccess: false)
            #expect(drifted.status == 1)
            #expect(drifted.stdout.contains("DRIFTED"))
            #expect(drifted.stdout.contains("degraded: interception\n"))

            try topology.sidecarInit("install")
            #expect(proxy.stop() == 0)
            #expect(try Shell.run(status, expectSuccess: false).status == 1)
        }
    }
}
