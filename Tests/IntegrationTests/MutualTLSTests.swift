import Foundation
import Testing

/// Two pods that both run the sidecar talk mutual TLS without their apps knowing: the pod (A, the client) and the
/// peer standing for a second pod (B, the server, at the peer's link address), each with `sidecar-init` rules and a
/// proxy, identities from one CA made by the `openssl` CLI. Interoperability with TLS stacks no one here wrote
/// (`openssl s_client`, `s_server`, curl), what the wire shows (tshark), and authorization by the caller's
/// identity, failing closed for callers without one.
@Suite struct MutualTLSTests {
    static let frontend = "spiffe://cluster.local/ns/shop/sa/frontend"
    static let orders = "spiffe://cluster.local/ns/shop/sa/orders"
    static let batch = "spiffe://cluster.local/ns/jobs/sa/batch"

    @Test func appToAppIsEncryptedOnTheWireAndIntactAtBothEnds() async throws {
        // A long detect timeout in B: if B sniffed the tunnel, the server-first call would wait for it.
        try await PodTopology.withMesh(b: "timeouts: { detect: 20s }\n") { topology, _ in
            try topology.startServer(inPod: false, port: 8080)
            let capture = "\(Binaries.directory)/\(topology.peer)-mesh.pcap"
            let link = topology.podLink.replacingOccurrences(of: "sva", with: "svb")
            // Started with no signal blocked (the test runner's threads block them, and children inherit the mask),
            // so that SIGINT stops tshark and its dumpcap with the capture written out.
            let unblocked =
                "import os, signal, sys; signal.pthread_sigmask(signal.SIG_SETMASK, []); os.execvp(sys.argv[1], sys.argv[1:])"
            let tshark = try topology.start(
                name: "tshark",
                topology.inPeer([
                    "/usr/bin/python3", "-c", unblocked, "tshark", "-i", link, "-w", capture, "-f", "tcp port 8080",
                ]))
            try tshark.waitForOutput("Capturing on")
            let started = Date()
            let call: PeerClient.CallResult
            do {
                call = try PeerClient.call(
                    topology.inPod([]), host: topology.peerIPv4, port: 8080, send: 300_000, expect: 500_000)
            } catch {
                let errors = try topology.askProxy("/metrics").split(separator: "\n").filter {
                    $0.hasPrefix("sidecar_connection_errors_total")
                }
                Issue.record("the call failed: \(error); A's errors: \(errors)")
                throw error
            }
            let elapsed = Date().timeIntervalSince(started)
            #expect(call.server.received == 300_000)
            #expect(call.server.sha256 == call.sentSha256)
            #expect(call.received == 500_000)
            #expect(call.receivedSha256 == call.expectedSha256)
            // B's sidecar delivered it, in plaintext, to the app's own port.
            #expect(call.hello.peer == "127.0.0.6")
            #expect(call.hello.localPort == 8080)
            // A server-first protocol: A waited its detect timeout (300 ms) to name it, B never sniffed the tunnel.
            #expect(elapsed < 10, "took \(elapsed) s")
            _ = tshark.stop(signal: SIGINT)
            let bytes = try Data(contentsOf: URL(fileURLWithPath: capture))
            // The capture holds the exchange (800 kB of payload; dumpcap may drop some of a burst on a veth).
            #expect(bytes.count > 300_000, "captured \(bytes.count) bytes")
            for clear in ["\"localPort\"", "\"send\"", "\"sha256\""] {
                #expect(bytes.range(of: Data(clear.utf8)) == nil, "\(clear) crossed the wire in clear")
            }
            let hellos = try Shell.run([
                "tshark", "-r", capture, "-d", "tcp.port==8080,tls", "-Y", "tls.handshake.type == 1", "-T", "fields",
                "-e",
                "tls.handshake.extensions_alpn_str", "-e", "tls.handshake.extensions.supported_version",
            ]).stdout
            #expect(hellos.contains("sidecar.mesh/tcp"), "\(hellos)")
            #expect(hellos.contains("0x0304"), "\(hellos)")
            #expect(!hellos.contains("0x0303"), "TLS 1.2 offered: \(hellos)")
            let metricsA = try topology.askProxy("/metrics")
            #expect(metricsA.contains(#"sidecar_connections_by_tls_total{direction="outbound",tls="mtls"} 1"#))
            #expect(metricsA.contains(#"sidecar_mesh_handshakes_total{direction="outbound",result="ok"} 1"#))
            let metricsB = try topology.askProxy("/metrics", inPeer: true)
            #expect(metricsB.contains(#"sidecar_mesh_handshakes_total{direction="inbound",result="ok"} 1"#))
        }
    }

    @Test func opensslInteroperatesBothWays() async throws {
        // s_server is the meshed upstream itself: B's rules leave its port alone.
        try await PodTopology.withMesh(
            b: "mtls: { mode: strict }\n", bCapture: ["--exclude-inbound-ports", "9443,9444"]
        ) {
            topology, identities in
            // openssl s_client, a sidecar no one here wrote, reaches B's app with a valid SVID and the mesh ALPN (as
            // the proxy's uid, which A's rules leave alone).
            try topology.startServer(inPod: false, port: 8080)
            let reached = try topology.opensslClient(
                port: 8080, identity: identities.frontend, alpn: "sidecar.mesh/tcp", uid: 1337)
            #expect(reached.stdout.contains("\"localPort\": 8080"), "\(reached.stdout) \(reached.stderr)")

            // openssl s_server with B's SVID serves as a meshed upstream to A: it sees A's certificate.
            let server = try topology.start(
                name: "s_server",
                topology.inPeer([
                    "openssl", "s_server", "-accept", "\(topology.upstreamIPv4):9443", "-cert",
                    identities.orders.certificate, "-key", identities.orders.privateKey, "-CAfile",
                    identities.orders.bundle, "-Verify", "1", "-tls1_3", "-alpn", "sidecar.mesh/http1", "-www",
                ]))
            try server.waitForOutput("ACCEPT")
            let page = try Shell.run(
                topology.inPod(["curl", "-s", "--max-time", "10", "http://\(topology.upstreamIPv4):9443/"])
            ).stdout
            #expect(page.contains("TLSv1.3"), "\(page)")
            #expect(page.contains("Client certificate"), "\(page)")
            #expect(page.contains("CN = workload") || page.contains("CN=workload"), "\(page)")

            // A server whose certificate another CA signed fails the handshake: a failed connect, so the relayed
            // client is reset, never served in plaintext.
            let stranger = try TestIdentity(uris: [Self.orders])
            defer { stranger.remove() }
            let impostor = try topology.start(
                name: "s_server-impostor",
                topology.inPeer([
                    "openssl", "s_server", "-accept", "\(topology.upstreamIPv4):9444", "-cert", stranger.certificate,
                    "-key", stranger.privateKey, "-tls1_3", "-alpn", "sidecar.mesh/http1", "-www",
                ]))
            try impostor.waitForOutput("ACCEPT")
            let refused = try Shell.run(
                topology.inPod([
                    "curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "10",
                    "http://\(topology.upstreamIPv4):9444/",
                ]), expectSuccess: false)
            #expect(refused.status != 0 && refused.stdout != "200", "\(refused.status) \(refused.stdout)")
            let metrics = try topology.askProxy("/metrics")
            #expect(metrics.contains(#"sidecar_mesh_handshakes_total{direction="outbound",result="tls"}"#))
        }
    }

    @Test func strictRefusesWhatIsNotAValidSidecar() async throws {
        try await PodTopology.withMesh(
            b: "mtls: { mode: strict, probes: [ { port: 8081, path: /healthz } ] }\n", meshA: false
        ) { topology, identities in
            try topology.startServer(inPod: false, port: 8080)
            try topology.startHTTPServer(port: 8081)
            let valid = try topology.opensslClient(
                port: 8080, identity: identities.frontend, alpn: "sidecar.mesh/tcp")
            #expect(valid.stdout.contains("\"localPort\": 8080"), "\(valid.stderr)")

            let otherCA = try TestIdentity(uris: [Self.frontend])
            let otherDomain = try identities.authority.issue(["spiffe://partner.example/ns/shop/sa/frontend"])
            let twoNames = try identities.authority.issue([Self.frontend, Self.batch])
            let expired = try identities.authority.issue([Self.frontend], validFor: .zero)
            let authorityAsLeaf = try identities.authority.issue([Self.frontend], isCA: true)
            defer { [otherCA, otherDomain, twoNames, expired, authorityAsLeaf].forEach { $0.remove() } }
            sleep(1)
            for (name, identity) in [
                ("another CA", otherCA), ("another trust domain", otherDomain), ("two URI SANs", twoNames),
                ("expired", expired), ("a CA as leaf", authorityAsLeaf), ("no certificate", nil),
            ] as [(String, TestIdentity?)] {
                let refused = try topology.opensslClient(port: 8080, identity: identity, alpn: "sidecar.mesh/tcp")
                #expect(!refused.stdout.contains("localPort"), "\(name) reached the app")
            }
            // Plaintext in strict mode: reset; but the declared probe passes, and nothing else on its port.
            let plaintext = try PeerClient.probe(topology.inPod([]), host: topology.peerIPv4, port: 8080)
            #expect(plaintext.outcome == "reset")
            let probes = try PeerClient.httpRequests(
                topology.inPod([]), host: topology.peerIPv4, port: 8081, ["GET /healthz", "GET /admin"])
            #expect(probes.map(\.status) == [200, 403])
            let metrics = try topology.askProxy("/metrics", inPeer: true)
            for reason in ["tls", "svid", "peer"] {
                #expect(
                    metrics.contains(#"sidecar_mesh_handshakes_total{direction="inbound",result="\#(reason)"}"#),
                    "\(reason)")
            }
        }
    }

    @Test func callersAreAuthorizedByIdentityAndPlaintextFailsClosed() async throws {
        let policy = """
            policy:
              inbound:
                rules:
                  - { action: allow, name: frontend-only, ports: [8080, 8081], from: { principals: ["\(Self.frontend)"] } }
                  - { action: deny, name: others, ports: [8080, 8081] }
            """
        try await PodTopology.withMesh(b: policy + "\n", meshA: false) { topology, identities in
            try topology.startServer(inPod: false, port: 8080)
            try topology.startHTTPServer(port: 8081)
            let batch = try identities.authority.issue([Self.batch])
            defer { batch.remove() }
            let request = "GET /orders HTTP/1.1\r\nHost: orders\r\nConnection: close\r\n\r\n"
            let allowed = try topology.opensslClient(
                port: 8081, identity: identities.frontend, alpn: "sidecar.mesh/http1", input: request)
            #expect(allowed.stdout.hasPrefix("HTTP/1.1 200"), "\(allowed.stdout)")
            let denied = try topology.opensslClient(
                port: 8081, identity: batch, alpn: "sidecar.mesh/http1", input: request)
            #expect(denied.stdout.hasPrefix("HTTP/1.1 403"), "\(denied.stdout)")
            #expect(denied.stdout.contains("others"), "\(denied.stdout)")
            let tcpDenied = try topology.opensslClient(port: 8080, identity: batch, alpn: "sidecar.mesh/tcp")
            #expect(!tcpDenied.stdout.contains("localPort"))
            // A plaintext caller claims no identity: the allow by principal never matches it, the deny does.
            #expect(throws: PeerClient.CallError.self) {
                try PeerClient.httpRequests(topology.inPod([]), host: topology.peerIPv4, port: 8081, ["GET /orders"])
            }
            // The app's own TLS (curl's, offering h2 and http/1.1) passes through in permissive mode, untouched:
            // what answers is s_server's own page.
            try topology.startTLSServer(port: 8443, on: topology.peerIPv4)
            let page = try Shell.run(
                topology.inPod(["curl", "-sk", "--max-time", "10", "https://\(topology.peerIPv4):8443/"])
            ).stdout
            #expect(page.contains("s_server"), "\(page)")
            let metrics = try topology.askProxy("/metrics", inPeer: true)
            #expect(metrics.contains(#"sidecar_connections_by_tls_total{direction="inbound",tls="passthrough"}"#))

            // sidecar-status in B: who B is, what it trusts, what was secured how; and what the policy decides for a
            // caller by identity, and for one without.
            let status = try Shell.run(
                [Binaries.sidecarStatus, "--netns", topology.peerNamespacePath], expectSuccess: false
            ).stdout
            #expect(status.contains("identity: \(Self.orders), valid until "), "\(status)")
            #expect(status.contains("trust bundle: CN=test-ca (until "), "\(status)")
            #expect(status.contains("mutual TLS: permissive"), "\(status)")
            // Counted as connections end (the last s_client ones may still be open).
            #expect(status.contains(#/connections by TLS: inbound \d+ mtls, 1 passthrough/#), "\(status)")
            func explain(_ caller: [String]) throws -> [String: Any] {
                let answer = try Shell.run(
                    [
                        Binaries.sidecarStatus, "explain", "--json", "--netns", topology.peerNamespacePath, "tcp",
                        "\(topology.peerIPv4):8081", "--inbound",
                    ] + caller)
                let explanation = try JSONSerialization.jsonObject(with: Data(answer.stdout.utf8)) as? [String: Any]
                #expect(explanation?["captured"] as? Bool == true)
                return try #require(explanation?["policy"] as? [String: Any])
            }
            let frontend = try explain(["--from", Self.frontend])
            #expect(frontend["action"] as? String == "allow" && frontend["rule"] as? String == "frontend-only")
            #expect(frontend["mtls"] as? String == "permissive" && frontend["peer"] as? String == Self.frontend)
            #expect(try explain(["--from", Self.batch])["rule"] as? String == "others")
            #expect(try explain([])["rule"] as? String == "others")
            let refused = try Shell.run(
                [Binaries.sidecarStatus, "explain", "tcp", "\(topology.peerIPv4):8081", "--from", Self.frontend],
                expectSuccess: false)
            #expect(refused.status == 2 && refused.stderr.contains("only with --inbound"), "\(refused.stderr)")
        }
    }

    @Test func theAppLearnsItsCallerAndNoClientCanClaimOne() async throws {
        try await PodTopology.withMesh(b: "mtls: { forwardClientCert: true }\n") { topology, identities in
            try topology.startHTTPServer(port: 8081)
            try topology.startHTTP2Server(port: 8082)
            let hash = try Shell.run([
                "sh", "-c",
                "openssl x509 -in \(identities.frontend.certificate) -outform DER | sha256sum | cut -d' ' -f1",
            ]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
            let expected = "By=\(Self.orders);Hash=\(hash);URI=\(Self.frontend)"
            let forged = "x-forwarded-client-cert: URI=spiffe://cluster.local/ns/kube-system/sa/admin"
            func curl(_ arguments: [String], uid: Int? = nil) throws -> String {
                try Shell.run(
                    topology.inPod(uid: uid, ["curl", "-s", "--max-time", "10", "-H", forged] + arguments)
                ).stdout
            }
            // HTTP/1.1 and HTTP/2 from pod A's app, meshed by A: B's app sees who called, and only that.
            let http1 = try JSONDecoder().decode(
                PeerClient.EchoedRequest.self, from: Data(try curl(["http://\(topology.peerIPv4):8081/"]).utf8))
            #expect(http1.headers["x-forwarded-client-cert"] == expected)
            let http2 = try curl(["--http2-prior-knowledge", "http://\(topology.upstreamIPv4):8082/xfcc"])
            #expect(http2 == expected)
            // A plaintext caller (the proxy's uid in A is left alone by A's rules) claims no one.
            let plaintext = try JSONDecoder().decode(
                PeerClient.EchoedRequest.self,
                from: Data(try curl(["http://\(topology.peerIPv4):8081/"], uid: 1337).utf8))
            #expect(plaintext.headers["x-forwarded-client-cert"] == nil, "\(plaintext.headers)")
        }
    }
}
