import Foundation
import Testing

/// The policy the config describes is the policy real traffic meets: a denied connection is reset at once and
/// logged with its rule; the rest flows.
@Suite struct PolicyEnforcementTests {
    @Test func denyByCIDR() async throws {
        try await PodTopology.with { topology in
            try topology.sidecarInit("install")
            let proxy = try topology.startProxy(
                configuration: """
                    policy:
                      outbound:
                        rules:
                          - { action: deny, name: no-upstream, cidrs: ["\(topology.upstreamIPv4)/32", "fd00:77:1::/48"] }
                    """)
            try topology.startServer(inPod: false, port: 9000)

            let denied = try PeerClient.probe(topology.inPod([]), host: topology.upstreamIPv4, port: 9000)
            #expect(denied.outcome == "reset")
            #expect(denied.elapsed < 1.0)
            #expect(try !PeerClient.reaches(topology.inPod([]), host: topology.upstreamIPv6, port: 9000))
            #expect(try PeerClient.reaches(topology.inPod([]), host: topology.peerIPv4, port: 9000))
            #expect(proxy.output.contains("rule=no-upstream"))
            #expect(proxy.output.contains("ruleIndex=0"))
        }
    }

    @Test func denyByPort() async throws {
        try await PodTopology.with { topology in
            try topology.sidecarInit("install")
            try topology.startProxy(
                configuration: "policy: { outbound: { rules: [ { action: deny, ports: [9001, 9100-9200] } ] } }")
            try topology.startServer(inPod: false, port: 9000)
            try topology.startServer(inPod: false, port: 9001)

            #expect(try PeerClient.reaches(topology.inPod([]), host: topology.upstreamIPv4, port: 9000))
            #expect(try !PeerClient.reaches(topology.inPod([]), host: topology.upstreamIPv4, port: 9001))
        }
    }

    @Test func defaultDenyWithAnAllow() async throws {
        try await PodTopology.with { topology in
            try topology.sidecarInit("install")
            try topology.startProxy(
                configuration: """
                    policy:
                      outbound:
                        default: deny
                        rules:
                          - { action: allow, cidrs: [10.77.1.0/24], ports: [9000] }
                    """)
            try topology.startServer(inPod: false, port: 9000)
            try topology.startServer(inPod: false, port: 9001)

            let allowed = try PeerClient.call(topology.inPod([]), host: topology.upstreamIPv4, port: 9000)
            #expect(allowed.hello.local == topology.upstreamIPv4)
            #expect(try !PeerClient.reaches(topology.inPod([]), host: topology.upstreamIPv4, port: 9001))
            #expect(try !PeerClient.reaches(topology.inPod([]), host: topology.peerIPv4, port: 9000))
            #expect(try !PeerClient.reaches(topology.inPod([]), host: topology.upstreamIPv6, port: 9000))
        }
    }

    /// Inbound rules see the connecting peer's address.
    @Test func inboundDenyBySource() async throws {
        try await PodTopology.with { topology in
            try topology.sidecarInit("install")
            let proxy = try topology.startProxy(
                configuration: """
                    policy:
                      inbound:
                        rules:
                          - { action: deny, name: not-the-peer, sourceCidrs: ["\(topology.peerIPv4)/32"] }
                    """)
            try topology.startServer(inPod: true, port: 8080)

            #expect(try !PeerClient.reaches(topology.inPeer([]), host: topology.podIPv4, port: 8080))
            let fromElsewhere = try PeerClient.call(topology.inPeer([]), host: topology.podIPv6, port: 8080)
            #expect(fromElsewhere.receivedSha256 == fromElsewhere.expectedSha256)
            #expect(proxy.output.contains("rule=not-the-peer"))
        }
    }

    /// The configuration the image ships is valid.
    @Test func theShippedConfigurationIsValid() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let check = try Shell.run([
            Binaries.sidecarProxy, "check", "--config", root.appendingPathComponent("init/sidecar.yaml").path,
        ])
        #expect(check.stdout.contains("policy outbound: default allow, 0 rules"))
    }

    /// An invalid file stops the proxy before it serves: exit 2, every problem with its key path.
    @Test func runRefusesAnInvalidFile() async throws {
        try await PodTopology.with { topology in
            let file = try topology.writeReadableFile(
                named: "\(topology.pod)-bad.yaml",
                "policy: { outbound: { default: maybe, rules: [ { action: deny, cidrs: [10.1.2.3/8] } ] } }")
            let run = try Shell.run(
                topology.inPod(uid: 1337, [Binaries.sidecarProxy, "run", "--config", file]), expectSuccess: false)
            #expect(run.status == 2)
            #expect(run.stderr.contains("policy.outbound.default: 'maybe' is not allow or deny"))
            #expect(run.stderr.contains("policy.outbound.rules[0].cidrs[0]: '10.1.2.3/8' has host bits set"))
            let check = try Shell.run([Binaries.sidecarProxy, "check", "--config", file], expectSuccess: false)
            #expect(check.status == 2)
        }
    }
}

/// Reloading: a good file applies to new connections at once, open ones are untouched, a bad file changes nothing.
@Suite struct PolicyReloadTests {
    @Test func reloadAppliesToNewConnectionsAndKeepsOpenOnes() async throws {
        try await PodTopology.with { topology in
            try topology.sidecarInit("install")
            let denyPort = { (port: Int) in "policy: { outbound: { rules: [ { action: deny, ports: [\(port)] } ] } }" }
            let proxy = try topology.startProxy(configuration: denyPort(9001))
            try topology.startServer(inPod: false, port: 9000)
            try topology.startServer(inPod: false, port: 9001)
            #expect(try PeerClient.reaches(topology.inPod([]), host: topology.upstreamIPv4, port: 9000))
            #expect(try !PeerClient.reaches(topology.inPod([]), host: topology.upstreamIPv4, port: 9001))

            // A transfer opened under the old policy, held until after the reload.
            let size = 8 * 1024 * 1024
            let held = try topology.startHeldCall(port: 9000, size: size)

            _ = try topology.writeReadableFile(named: "\(topology.pod).yaml", denyPort(9000))
            proxy.signal(SIGHUP)
            try proxy.waitForOutput("generation=2")
            #expect(try !PeerClient.reaches(topology.inPod([]), host: topology.upstreamIPv4, port: 9000))
            #expect(try PeerClient.reaches(topology.inPod([]), host: topology.upstreamIPv4, port: 9001))

            let result = try PeerClient.finishHeldCall(held)
            #expect(result.server.received == size && result.server.sha256 == result.sentSha256)
            #expect(result.receivedSha256 == result.expectedSha256)

            // A bad file is refused over the admin API; the policy in force stays.
            _ = try topology.writeReadableFile(
                named: "\(topology.pod).yaml", "policy: { outbound: { default: maybe } }")
            let reload = try Shell.run([
                "ip", "netns", "exec", topology.pod, "curl", "-s", "-w", "%{http_code}", "-X", "POST", "-H",
                try topology.adminAuthorization(), "http://127.0.0.1:15000/reload",
            ])
            #expect(reload.stdout.contains("policy.outbound.default: 'maybe' is not allow or deny"))
            #expect(reload.stdout.hasSuffix("422"))
            #expect(proxy.output.contains("failedReloads=1"))
            #expect(try !PeerClient.reaches(topology.inPod([]), host: topology.upstreamIPv4, port: 9000))
            #expect(try PeerClient.reaches(topology.inPod([]), host: topology.upstreamIPv4, port: 9001))
        }
    }
}

/// Rules on the TLS server name: the proxy reads the ClientHello (never changing a byte), decides, and relays.
@Suite struct ServerNamePolicyTests {
    /// `openssl s_server` in the peer, `openssl s_client -servername` in the app. The app resolves the name through
    /// the pod's DNS (the proxy's DNS listener notes the answer): an allow by a wildcard name admits the name's own
    /// address, and the same claim sent to another address meets the next rule.
    @Test func anSNIAllowListLetsOnlyMatchingNamesThrough() async throws {
        try await PodTopology.with { topology in
            try topology.startNameserver(addresses: ["api.allowed.test": topology.upstreamIPv4])
            try topology.sidecarInit("install", "--redirect-dns")
            let proxy = try topology.startProxy(
                configuration: """
                    policy:
                      outbound:
                        rules:
                          - { action: allow, name: allowed-names, sni: ["*.allowed.test"] }
                          - { action: deny, name: other-tls, ports: [8443] }
                    """)
            try topology.startTLSServer(port: 8443)
            try topology.startTLSServer(port: 8443, on: topology.peerIPv4)
            let resolved = try Shell.run(topology.inPod(["getent", "ahostsv4", "api.allowed.test"]))
            #expect(resolved.stdout.hasPrefix(topology.upstreamIPv4), "\(resolved.stdout)")

            func handshake(_ name: String, to address: String) throws -> CommandResult {
                try Shell.run(
                    topology.inPod([
                        "openssl", "s_client", "-connect", "\(address):8443", "-servername", name, "-brief",
                    ]), expectSuccess: false, stdin: "")
            }
            let allowed = try handshake("api.allowed.test", to: topology.upstreamIPv4)
            #expect(allowed.status == 0, "\(allowed.stderr)")
            #expect(allowed.stderr.contains("CONNECTION ESTABLISHED"), "\(allowed.stderr)")
            let denied = try handshake("api.other.test", to: topology.upstreamIPv4)
            #expect(denied.status != 0)
            #expect(!denied.stderr.contains("CONNECTION ESTABLISHED"))
            #expect(proxy.output.contains("rule=other-tls"))
            #expect(proxy.output.contains("sni=api.other.test"), "\(proxy.output)")
            // The allowed name, claimed to an address it does not resolve to.
            let claimed = try handshake("api.allowed.test", to: topology.peerIPv4)
            #expect(claimed.status != 0 && !claimed.stderr.contains("CONNECTION ESTABLISHED"), "\(claimed.stderr)")
            #expect(proxy.output.contains("destination=\(topology.peerIPv4):8443"), "\(proxy.output)")
        }
    }

    /// An allow by an exact host name needs no DNS from the app: the proxy looks the name up itself. A request
    /// claiming that host to any other address meets the default deny, and `explain` names the addresses.
    @Test func anAllowByHostAdmitsOnlyTheHostsAddresses() async throws {
        try await PodTopology.with { topology in
            try topology.startNameserver(addresses: ["api.partner.test": topology.upstreamIPv4])
            try topology.sidecarInit("install")
            try topology.startProxy(
                configuration: """
                    policy:
                      outbound:
                        default: deny
                        rules: [ { action: allow, name: partner, http: { host: api.partner.test } } ]
                    """)
            try topology.startHTTPServer(port: 9080)
            func request(to address: String) throws -> String {
                try Shell.run(
                    topology.inPod([
                        "curl", "-s", "--max-time", "5", "-o", "/dev/null", "-w", "%{http_code}", "-H",
                        "Host: api.partner.test", "http://\(address):9080/orders",
                    ]), expectSuccess: false
                ).stdout
            }
            // The proxy's own lookup runs at start; give it a moment.
            var allowed = ""
            for _ in 0..<30 where allowed != "200" {
                allowed = try request(to: topology.upstreamIPv4)
                if allowed != "200" { usleep(100_000) }
            }
            #expect(allowed == "200")
            #expect(try request(to: topology.peerIPv4) == "403")
            let explained = try Shell.run([
                Binaries.sidecarStatus, "explain", "tcp", "\(topology.upstreamIPv4):9080", "--netns",
                topology.podNamespacePath,
            ]).stdout
            #expect(
                explained.contains("an allow by name 'api.partner.test' admits only its addresses: 10.77.1.5"),
                "\(explained)")
        }
    }

    /// A client that sends everything and half-closes at once, while detection and the upstream connect are still
    /// under way: every byte reaches the server, in order, and the half-close after them.
    @Test func bytesSentDuringDetectionArriveInOrder() async throws {
        try await PodTopology.with { topology in
            try topology.sidecarInit("install")
            try topology.startProxy(
                configuration: "policy: { outbound: { rules: [ { action: deny, sni: [\"*.blocked.test\"] } ] } }")
            try topology.startServer(inPod: false, port: 9000)
            for _ in 0..<5 {
                let result = try PeerClient.call(
                    topology.inPod([]), host: topology.upstreamIPv4, port: 9000, send: 30000, expect: 1000, eager: true)
                #expect(result.server.received == 30000)
                #expect(result.server.sha256 == result.sentSha256)
                #expect(result.receivedSha256 == result.expectedSha256)
            }
        }
    }

    /// A server that speaks first (here the test peer, which greets before reading) must not stall behind
    /// detection: after the detect timeout the connection is relayed as opaque bytes, intact.
    @Test func aServerSpeaksFirstProtocolIsNotStalled() async throws {
        try await PodTopology.with { topology in
            try topology.sidecarInit("install")
            try topology.startProxy(
                configuration: """
                    timeouts: { detect: 200ms }
                    policy: { outbound: { rules: [ { action: deny, sni: ["*.blocked.test"] } ] } }
                    """)
            try topology.startServer(inPod: false, port: 9000)

            let clock = ContinuousClock()
            let started = clock.now
            let result = try PeerClient.call(
                topology.inPod([]), host: topology.upstreamIPv4, port: 9000, send: 100_000, expect: 100_000)
            #expect(clock.now - started >= .milliseconds(200))
            #expect(result.server.sha256 == result.sentSha256)
            #expect(result.receivedSha256 == result.expectedSha256)
        }
    }

    /// A client that stays silent through the detect timeout and only then sends its ClientHello still meets the
    /// SNI rules: waiting out the timeout never widens what the policy allows.
    @Test func aLateClientHelloStillMeetsTheRules() async throws {
        try await PodTopology.with { topology in
            try topology.sidecarInit("install")
            let proxy = try topology.startProxy(
                configuration:
                    "policy: { outbound: { rules: [ { action: deny, name: blocked, sni: [\"*.blocked.test\"] } ] } }")
            try topology.startTLSServer(port: 8443)
            func lateHandshake(_ name: String) throws -> String? {
                let result = try Shell.run(
                    topology.inPod([
                        "/usr/bin/python3", "-B", Binaries.peer, "tls-call", topology.upstreamIPv4, "8443",
                        "--server-name", name, "--delay", "0.6",
                    ]))
                let json = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
                return json?["outcome"] as? String
            }
            #expect(try lateHandshake("api.fine.test") == "established")
            #expect(try lateHandshake("api.blocked.test") != "established")
            #expect(proxy.output.contains("denied by policy after the detect timeout"), "\(proxy.output)")
            #expect(proxy.output.contains("rule=blocked"))
        }
    }
}
