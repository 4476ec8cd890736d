import Testing

/// `install` and `verify` warn about anything else that rewrites connections at the hooks capture uses.
@Suite struct ConflictReportTests {
    @Test func legacyIptablesAndEarlierNatChainsAreReported() async throws {
        try await PodTopology.with { topology in
            let inPod = ["ip", "netns", "exec", topology.pod]
            try Shell.run(
                inPod + [
                    "nft",
                    "add table ip nat; add chain ip nat OUTPUT { type nat hook output priority -110; }; "
                        + "add chain ip nat LATE { type nat hook prerouting priority 100; }",
                ])
            try Shell.run(
                inPod + ["iptables-legacy", "-t", "nat", "-A", "OUTPUT", "-p", "tcp", "--dport", "1", "-j", "RETURN"])

            for command in ["install", "verify"] {
                let result = try topology.sidecarInit(command)
                #expect(
                    result.stderr.contains(
                        "warning: table ip nat chain OUTPUT (nat output, priority -110) runs before or alongside ours"),
                    "\(command): \(result.stderr)")
                #expect(result.stderr.contains("warning: legacy iptables has a nat table here"), "\(command)")
                #expect(!result.stderr.contains("LATE"), "a chain that runs after ours is no conflict")
            }
        }
    }
}
