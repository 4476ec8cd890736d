import Foundation
import Testing

/// `sidecar-init` against the real kernel, with `nft` as the oracle.
@Suite struct RuleProgrammingTests {
    /// What the kernel holds for `table`, as `nft -j` lists it, without handles (they count per namespace) and
    /// without nft's own version banner.
    static func listTable(namespace: String, table: String = "sidecar") throws -> String {
        let listed = try Shell.run(["ip", "netns", "exec", namespace, "nft", "-j", "list", "table", "inet", table])
        let json = try JSONSerialization.jsonObject(with: Data(listed.stdout.utf8)) as! [String: Any]
        let objects = (json["nftables"] as! [[String: Any]]).filter { $0["metainfo"] == nil }
        let normalized = objects.map { object in
            object.mapValues { value -> Any in
                guard var fields = value as? [String: Any] else { return value }
                fields["handle"] = nil
                return fields
            }
        }
        let data = try JSONSerialization.data(withJSONObject: normalized, options: [.sortedKeys, .prettyPrinted])
        return String(decoding: data, as: UTF8.self)
    }

    /// The differential test: what libnftnl programmed equals what `nft -f` makes of `plan`'s text.
    @Test func kernelTableEqualsNftOfThePlan() async throws {
        try await PodTopology.with { topology in
            try topology.sidecarInit("install")
            let programmed = try Self.listTable(namespace: topology.pod)

            let plan = try Shell.run([Binaries.sidecarInit, "plan"]).stdout
            try Shell.run(["ip", "netns", "exec", topology.peer, "nft", "-f", "-"], stdin: plan)
            let fromText = try Self.listTable(namespace: topology.peer)

            #expect(programmed == fromText)
            // Installed from the host with --netns: only the pod's namespace has the table.
            #expect(try Shell.run(["nft", "list", "table", "inet", "sidecar"], expectSuccess: false).status != 0)
            #expect(programmed.contains("\"comment\" : \"sidecar: redirect outbound tcp\""))
        }
    }

    @Test func installingTwiceGivesTheSameRuleset() async throws {
        try await PodTopology.with { topology in
            try topology.sidecarInit("install")
            let first = try Self.listTable(namespace: topology.pod)
            try topology.sidecarInit("install")
            let second = try Self.listTable(namespace: topology.pod)
            #expect(first == second)
            let rules = try Shell.run(["ip", "netns", "exec", topology.pod, "nft", "list", "table", "inet", "sidecar"])
            #expect(rules.stdout.components(separatedBy: "redirect to :15001").count == 2, "exactly one redirect rule")
        }
    }

    @Test func uninstallRemovesOnlyOurTable() async throws {
        try await PodTopology.with { topology in
            let nft = ["ip", "netns", "exec", topology.pod, "nft"]
            try Shell.run(nft + ["add", "table", "inet", "someone_else"])
            try Shell.run(nft + ["add", "chain", "inet", "someone_else", "keep"])
            try topology.sidecarInit("install")
            try topology.sidecarInit("uninstall")

            let tables = try Shell.run(nft + ["list", "tables"]).stdout
            #expect(tables == "table inet someone_else\n")
            #expect(try Shell.run(nft + ["list", "chain", "inet", "someone_else", "keep"]).status == 0)
            // A second uninstall finds nothing to remove and still succeeds: init containers get re-run.
            #expect(try topology.sidecarInit("uninstall").stdout.contains("was not installed"))
        }
    }

    /// Without CAP_NET_ADMIN the kernel refuses the whole batch; the operator is told so, not "protocol error".
    @Test func installWithoutNetAdminFailsNamingTheReason() async throws {
        try await PodTopology.with { topology in
            let refused = try Shell.run(topology.inPod([Binaries.sidecarInit, "install"]), expectSuccess: false)
            #expect(refused.status == 1)
            #expect(refused.stderr.contains("Operation not permitted"), "\(refused.stderr)")
            let tables = try Shell.run(["ip", "netns", "exec", topology.pod, "nft", "list", "tables"])
            #expect(tables.stdout.isEmpty)
        }
    }

    /// Bad input of every kind exits 2, names the offending value, and leaves the kernel exactly as it was.
    @Test(arguments: [
        (["--outbound-port", "0"], "--outbound-port: '0' is not a port"), (["--outbound-port", "70000"], "70000"),
        (["--proxy-uid", "root"], "'root'"), (["--exclude-outbound-ports", "9000-8000"], "9000-8000"),
        (["--exclude-outbound-cidrs", "10.1.2.3/8"], "did you mean 10.0.0.0/8"),
        (["--include-outbound-cidrs", "10.0.0.0/33"], "10.0.0.0/33"), (["--exclude-interfaces", "a/b"], "'a/b'"),
        (["--inbound-ports", ""], "inbound ports"), (["--table", "9x"], "table '9x'"),
        (["--no-such-flag"], "--no-such-flag"), (["--exclude-inbound-ports", "15000-15010"], "15000-15010"),
        (["--ipv4-only", "--exclude-outbound-cidrs", "fd00::/8"], "fd00::/8"),
    ])
    func badInputExitsTwoAndChangesNothing(arguments: [String], named: String) async throws {
        try await PodTopology.with { topology in
            try topology.sidecarInit("install")
            let before = try Self.listTable(namespace: topology.pod)
            let refused = try Shell.run(
                [Binaries.sidecarInit, "install"] + arguments + ["--netns", topology.podNamespacePath],
                expectSuccess: false)
            #expect(refused.status == 2, "\(refused.stderr)")
            #expect(refused.stderr.contains(named), "\(refused.stderr)")
            #expect(try Self.listTable(namespace: topology.pod) == before)
        }
    }

    /// `probe` dials destinations the rules must capture: it succeeds once they are installed and fails before.
    @Test func probeSucceedsAfterInstallAndFailsWithout() async throws {
        try await PodTopology.with { topology in
            let probe = [Binaries.sidecarInit, "probe", "--timeout", "500ms", "--netns", topology.podNamespacePath]
            let before = try Shell.run(probe, expectSuccess: false)
            #expect(before.status == 1)
            #expect(before.stdout.contains("probe 192.0.2.1:9: not redirected"), "\(before.stdout)")

            try topology.sidecarInit("install")
            let after = try Shell.run(probe)
            #expect(after.stdout.contains("probe 192.0.2.1:9: redirected, original destination intact"))
            #expect(after.stdout.contains("probe [2001:db8::1]:9: redirected, original destination intact"))

            // With only some destinations captured, the probe dials one of them.
            try topology.sidecarInit("install", "--include-outbound-cidrs", "10.96.0.0/12")
            let included = try Shell.run(probe + ["--include-outbound-cidrs", "10.96.0.0/12"])
            #expect(included.stdout == "probe 10.96.0.1:9: redirected, original destination intact\n")
        }
    }

    /// `verify` reads the table back and compares it with the plan: 4 absent, 0 match, 3 drift with each difference.
    @Test func verifyTellsMatchDriftAndAbsence() async throws {
        try await PodTopology.with { topology in
            let verify = [Binaries.sidecarInit, "verify", "--netns", topology.podNamespacePath]
            #expect(try Shell.run(verify, expectSuccess: false).status == 4)

            try topology.sidecarInit("install")
            #expect(try Shell.run(verify).stdout.contains("matches the plan"))
            let otherSettings = try Shell.run(verify + ["--proxy-uid", "1500"], expectSuccess: false)
            #expect(otherSettings.status == 3)

            try Shell.run(
                [
                    "ip", "netns", "exec", topology.pod, "nft", "insert", "rule", "inet", "sidecar", "output", "tcp",
                    "dport", "22", "return",
                ])
            let drifted = try Shell.run(verify, expectSuccess: false)
            #expect(drifted.status == 3)
            #expect(
                drifted.stdout.hasPrefix("chain output: unplanned rule at position 1: handle "), "\(drifted.stdout)")
            #expect(drifted.stdout.split(separator: "\n").count == 1, "one inserted rule is one difference")

            // A dormant table keeps its rules but enforces none of them.
            try topology.sidecarInit("install")
            try Shell.run([
                "ip", "netns", "exec", topology.pod, "nft", "add", "table", "inet", "sidecar", "{", "flags", "dormant;",
                "}",
            ])
            let dormant = try Shell.run(verify, expectSuccess: false)
            #expect(dormant.status == 3)
            #expect(dormant.stdout.contains("dormant"))
        }
    }
}
