import Foundation
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
                    "interception: installed (table inet sidecar, 3 chains, 13 rules), matches its plan"))
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

    /// `--json` in the three states an operator meets: healthy (with what the proxy reports of its traffic), rules
    /// drifted, proxy down; exit codes 0, 1, 1.
    @Test func jsonInHealthyDriftedAndProxyDownStates() async throws {
        try await PodTopology.with { topology in
            let status = [Binaries.sidecarStatus, "--json", "--netns", topology.podNamespacePath]
            func report() throws -> (status: Int32, json: [String: Any]) {
                let result = try Shell.run(status, expectSuccess: false)
                return (
                    result.status, try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as! [String: Any]
                )
            }
            try topology.sidecarInit("install")
            let proxy = try topology.startProxy(
                configuration: "policy: { outbound: { rules: [ { action: deny, name: no-9001, ports: [9001] } ] } }")
            try topology.startServer(inPod: false, port: 9001)
            #expect(try !PeerClient.reaches(topology.inPod([]), host: topology.upstreamIPv4, port: 9001))

            let healthy = try report()
            #expect(healthy.status == 0)
            let proxyPart = healthy.json["proxy"] as! [String: Any]
            #expect(proxyPart["ready"] as? Bool == true)
            let stats = try #require(proxyPart["stats"] as? [String: Any])
            #expect(stats["configGeneration"] as? Int == 1)
            let denials = (stats["traffic"] as! [String: Any])["recentDenials"] as! [[String: Any]]
            #expect(denials.first?["rule"] as? String == "no-9001")
            let text = try Shell.run([Binaries.sidecarStatus, "--netns", topology.podNamespacePath])
            #expect(text.stdout.contains("rule no-9001"), "\(text.stdout)")
            #expect(!text.stdout.contains("\u{1B}["), "plain when piped")
            // On a terminal (a pty from script(1)), the verdicts are in colour (unless NO_COLOR is set, as the
            // test runner may set it).
            let onTerminal = try Shell.run([
                "env", "-u", "NO_COLOR", "script", "-qec",
                "\(Binaries.sidecarStatus) --netns \(topology.podNamespacePath)", "/dev/null",
            ])
            #expect(onTerminal.stdout.contains("\u{1B}[32mready\u{1B}[0m"), "\(onTerminal.stdout)")

            try Shell.run(["ip", "netns", "exec", topology.pod, "nft", "flush", "chain", "inet", "sidecar", "output"])
            let drifted = try report()
            #expect(drifted.status == 1)
            #expect((drifted.json["interception"] as! [String: Any])["matchesPlan"] as? Bool == false)

            try topology.sidecarInit("install")
            #expect(proxy.stop() == 0)
            let down = try report()
            #expect(down.status == 1)
            #expect((down.json["proxy"] as! [String: Any])["ready"] as? Bool == false)
            #expect((down.json["interception"] as! [String: Any])["matchesPlan"] as? Bool == true)
        }
    }

    /// `explain` says whether a connection would be captured and by which rule, whether that plan is the one
    /// installed, and what the running proxy's policy would decide.
    @Test func explainSaysWhatWouldHappenToAConnection() async throws {
        try await PodTopology.with { topology in
            try topology.sidecarInit("install")
            try topology.startProxy(
                configuration: """
                    policy:
                      outbound:
                        rules:
                          - { action: deny, name: no-9001, ports: [9001] }
                          - { action: allow, name: partners, sni: ["*.example.com"] }
                    """)
            func explain(_ arguments: String...) throws -> [String: Any] {
                let result = try Shell.run(
                    [Binaries.sidecarStatus, "explain", "--json", "--netns", topology.podNamespacePath] + arguments)
                return try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as! [String: Any]
            }
            let denied = try explain("tcp", "\(topology.upstreamIPv4):9001")
            #expect(denied["captured"] as? Bool == true)
            #expect(denied["captureRule"] as? String == "sidecar: redirect outbound tcp")
            #expect(denied["planInstalled"] as? Bool == true)
            let policy = try #require(denied["policy"] as? [String: Any])
            #expect(policy["action"] as? String == "deny" && policy["rule"] as? String == "no-9001")
            #expect(policy["ruleIndex"] as? Int == 0)

            let tls = try explain("tcp", "[\(topology.upstreamIPv6)]:443")
            #expect((tls["policy"] as? [String: Any])?["inspectsFirstBytes"] as? Bool == true)

            let proxyOwn = try explain("tcp", "\(topology.upstreamIPv4):9001", "--uid", "1337")
            #expect(proxyOwn["captured"] as? Bool == false)
            #expect(proxyOwn["captureRule"] as? String == "sidecar: proxy uid")
            #expect(proxyOwn["policy"] == nil)

            // Other settings than those installed: explained, with the warning that they are not in force.
            let other = try explain("tcp", "\(topology.upstreamIPv4):9001", "--exclude-outbound-ports", "9001")
            #expect(other["captured"] as? Bool == false)
            #expect(other["planInstalled"] as? Bool == false)
            let text = try Shell.run([
                Binaries.sidecarStatus, "explain", "tcp", "\(topology.upstreamIPv4):9001", "--netns",
                topology.podNamespacePath,
            ])
            #expect(text.stdout.contains("policy: deny by rule no-9001 (rules[0])"), "\(text.stdout)")
        }
    }

    /// Another table's NAT chain ahead of ours is reported as a warning; it does not make the pod unhealthy.
    @Test func aConflictingNATChainIsAWarning() async throws {
        try await PodTopology.with { topology in
            try topology.sidecarInit("install")
            try topology.startProxy()
            try Shell.run([
                "ip", "netns", "exec", topology.pod, "nft",
                "add table ip other; add chain ip other early { type nat hook output priority -150; }",
            ])
            let result = try Shell.run([Binaries.sidecarStatus, "--json", "--netns", topology.podNamespacePath])
            let json = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as! [String: Any]
            let warnings = (json["interception"] as! [String: Any])["warnings"] as! [String]
            #expect(warnings.count == 1)
            #expect(warnings.first?.contains("table ip other chain early") == true, "\(warnings)")
            let text = try Shell.run([Binaries.sidecarStatus, "--netns", topology.podNamespacePath])
            #expect(text.stdout.contains("warning:"))
        }
    }
}
