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

    /// Configuration cases for the differential test: every option, and inputs where nft's own encoding is subtle
    /// (unaligned prefixes, adjacent hosts, ranges to the last port, sets too large for one netlink attribute).
    static let differentialCases: [[String]] = [
        [],
        ["--exclude-outbound-ports", "22,7000-7002,65000-65535", "--exclude-inbound-ports", "8081,9000-9100"],
        ["--exclude-outbound-cidrs", "10.0.0.0/8,11.0.0.0/8,1.2.3.4,1.2.3.5,255.255.255.255,fd00::/8,8000::/1"],
        ["--include-outbound-cidrs", "10.96.0.0/12,fe80::/10"],
        ["--exclude-outbound-cidrs", "1.2.3.4,1.2.3.5"],
        ["--exclude-interfaces", "eth1,vx0,abcdefghijklmno", "--redirect-dns", "--ipv4-only"],
        ["--proxy-uid", "1337,1500,1337", "--proxy-gid", "1337,2000", "--inbound-ports", "80,8080,9000-9100"],
        ["--exclude-outbound-ports", (1...5000).map { "\($0 * 2)" }.joined(separator: ",")],
        ["--exclude-outbound-cidrs", (1...1200).map { "fd00:\(String($0, radix: 16))::/32" }.joined(separator: ",")],
    ]

    /// The differential test: what libnftnl programmed equals what `nft -f` makes of `plan`'s text, and `verify`
    /// accepts the table `nft` made.
    @Test(arguments: differentialCases)
    func kernelTableEqualsNftOfThePlan(options: [String]) async throws {
        try await PodTopology.with { topology in
            try topology.sidecarInit(["install"] + options)
            let programmed = try Self.listTable(namespace: topology.pod)

            let plan = try Shell.run([Binaries.sidecarInit, "plan"] + options).stdout
            try Shell.run(["ip", "netns", "exec", topology.peer, "nft", "-f", "-"], stdin: plan)
            let fromText = try Self.listTable(namespace: topology.peer)

            #expect(programmed == fromText)
            #expect(programmed.contains("\"comment\" : \"sidecar: redirect outbound tcp\""))
            try Shell.run(
                [Binaries.sidecarInit, "verify"] + options + ["--netns", "/run/netns/\(topology.peer)"])
            // Installed from the host with --netns: only the pod's namespace has the table.
            #expect(try Shell.run(["nft", "list", "table", "inet", "sidecar"], expectSuccess: false).status != 0)
        }
    }

    /// Config file problems are reported with the key's path, and values are read as written.
    @Test func configFileKeysAndValuesAreCheckedAsWritten() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("capture-\(getpid()).yaml")
        defer { try? FileManager.default.removeItem(at: file) }
        try "excludeOutbondPorts: [7002]\nexcludeOutboundPorts: [[1]]\nproxyUid: {a: 1}\n".write(
            to: file, atomically: true, encoding: .utf8)
        let refused = try Shell.run([Binaries.sidecarInit, "plan", "--config", file.path], expectSuccess: false)
        #expect(refused.status == 2)
        #expect(refused.stderr.contains("excludeOutbondPorts: not a capture setting"))
        #expect(refused.stderr.contains("excludeOutboundPorts[0]: expected a single value, found a list"))
        #expect(refused.stderr.contains("proxyUid: expected a value or a list of values, found a mapping"))

        try "excludeOutboundPorts: [0755]\nexcludeInterfaces: [off]\nredirectDns: yes\n".write(
            to: file, atomically: true, encoding: .utf8)
        let literal = try Shell.run([Binaries.sidecarInit, "plan", "--config", file.path], expectSuccess: false)
        #expect(literal.stderr.contains("redirectDns: 'yes' is not true or false"), "\(literal.stderr)")

        try "excludeOutboundPorts: [0755]\nexcludeInterfaces: [off]\n".write(
            to: file, atomically: true, encoding: .utf8)
        let plan = try Shell.run([Binaries.sidecarInit, "plan", "--config", file.path])
        #expect(plan.stdout.contains("#   excludeOutboundPorts: 755 (config file"))
        #expect(plan.stdout.contains("#   excludeInterfaces: off (config file"))
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

            // A family the pod has no route for cannot leave it: skipped, not failed.
            try topology.sidecarInit("install")
            try Shell.run(["ip", "-n", topology.pod, "-6", "route", "del", "default"])
            let ipv4Only = try Shell.run(probe)
            #expect(ipv4Only.stdout.contains("probe [2001:db8::1]:9: skipped: no route for IPv6"), "\(ipv4Only.stdout)")
            #expect(ipv4Only.stdout.contains("probe 192.0.2.1:9: redirected"))
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
