import Foundation
import Testing

/// The app cannot steer its sidecar: the capture table resets connections to the admin port from every uid but
/// root's and the proxy's, and the mutating endpoints also need the token only the proxy's container holds. Probes,
/// `wait-ready` and `sidecar-status` keep working.
@Suite struct AdminPortTests {
    /// curl's outcome for one admin request from inside the pod: the HTTP status, or curl's exit code when no answer
    /// came (7: refused, 56: reset).
    func admin(
        _ topology: PodTopology, uid: Int, _ method: String, _ path: String, headers: [String] = []
    ) throws -> String {
        let result = try Shell.run(
            topology.inPod(
                uid: uid,
                ["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "3", "-X", method]
                    + headers.flatMap { ["-H", $0] } + ["http://127.0.0.1:15000\(path)"]),
            expectSuccess: false)
        return result.status == 0 ? result.stdout : "curl exit \(result.status)"
    }

    @Test func onlyRootAndTheProxyReachTheAdminPortAndOnlyWithTheTokenMayTheyChangeIt() async throws {
        try await PodTopology.with { topology in
            try topology.sidecarInit("install")
            let proxy = try topology.startProxy()

            // The app (uid 1000), as any SSRF through it would: refused before a byte (the reset answers its SYN:
            // curl's "couldn't connect", 7), for reads and writes alike.
            #expect(try admin(topology, uid: topology.appUID, "POST", "/quitquitquit") == "curl exit 7")
            #expect(try admin(topology, uid: topology.appUID, "GET", "/stats") == "curl exit 7")
            #expect(try topology.rulePackets(comment: "sidecar: admin port, any other uid") >= 2)

            // Root passes the table, as an app running as root would, but not the token check.
            #expect(try admin(topology, uid: 0, "GET", "/stats") == "200")
            for path in ["/quitquitquit", "/drain", "/reload", "/logging?level=debug"] {
                #expect(try admin(topology, uid: 0, "POST", path) == "401", "\(path)")
                #expect(
                    try admin(topology, uid: 0, "POST", path, headers: ["Authorization: Bearer 00"]) == "401", "\(path)"
                )
            }
            #expect(try topology.askProxy("/ready") == "ready\n")
            // The proxy's own uid with the token, as an operator through `kubectl exec`.
            let credential = try topology.adminAuthorization()
            #expect(try admin(topology, uid: 1337, "POST", "/logging?level=debug", headers: [credential]) == "200")
            // The kubelet's probes on 15020, from outside the pod, and sidecar-status are untouched.
            let probe = try Shell.run(
                topology.inPeer([
                    "curl", "-s", "--max-time", "3", "http://\(topology.podIPv4):15020/healthz/ready",
                ]))
            #expect(probe.stdout == "ready\n")
            let status = try topology.statusJSON()
            #expect((status["proxy"] as? [String: Any])?["ready"] as? Bool == true)
            #expect((status["interception"] as? [String: Any])?["matchesPlan"] as? Bool == true)
            #expect(proxy.isRunning)
        }
    }

    /// `plan` shows the rule, `verify` finds it installed, and `explain` says why the app's connection is refused.
    @Test func planVerifyAndExplainShowTheAdminRule() async throws {
        try await PodTopology.with { topology in
            try topology.sidecarInit("install")
            let plan = try Shell.run([Binaries.sidecarInit, "plan"]).stdout
            #expect(plan.contains("type filter hook output priority 0"))
            #expect(plan.contains("reject with tcp reset comment \"sidecar: admin port, any other uid\""))
            try topology.sidecarInit("verify")
            let explained = try Shell.run([
                Binaries.sidecarStatus, "explain", "tcp", "127.0.0.1:15000", "--uid", "1000", "--netns",
                topology.podNamespacePath,
            ]).stdout
            #expect(explained.contains("refused with a reset by rule 'sidecar: admin port, any other uid'"))
            let asProxy = try Shell.run([
                Binaries.sidecarStatus, "explain", "tcp", "127.0.0.1:15000", "--uid", "1337", "--netns",
                topology.podNamespacePath,
            ]).stdout
            #expect(!asProxy.contains("refused"))
        }
    }
}
