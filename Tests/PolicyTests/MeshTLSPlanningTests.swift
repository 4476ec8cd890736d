import Identity
import Interception
import Policy
import Testing

/// Mutual TLS in the one function that plans connections and the one that decides requests: which inbound
/// connections are terminated, what a strict port lets through, which outbound destinations are meshed and with
/// which ALPN, and identity conditions failing closed for callers without one.
@Suite struct MeshTLSPlanningTests {
    static let identity = "identity: { directory: /svid, layout: csi-spiffe }"
    static let frontend = try! SPIFFEID(parsing: "spiffe://cluster.local/ns/shop/sa/frontend")
    static let batch = try! SPIFFEID(parsing: "spiffe://cluster.local/ns/jobs/sa/batch")

    func configuration(_ yaml: String) throws -> ProxyConfiguration {
        try ConfigurationLoader.load(yaml: yaml).get()
    }

    func facts(
        _ direction: TrafficDirection = .inbound, to destination: String = "10.244.1.5", port: UInt16 = 8080,
        peer: SPIFFEID? = nil
    ) throws -> ConnectionFacts {
        ConnectionFacts(
            direction: direction, destinationAddress: try IPNetwork(parsing: destination).address,
            destinationPort: port, sourceAddress: try IPNetwork(parsing: "10.244.2.7").address, peer: peer)
    }

    func plan(_ facts: ConnectionFacts, _ detected: DetectedProtocol?, _ configuration: ProxyConfiguration)
        -> ConnectionPlan
    {
        ConnectionPlanner.plan(facts, detected: detected, in: configuration, names: NameAddresses())
    }

    static let meshHello = DetectedProtocol.tls(serverName: nil, alpn: ["sidecar.mesh/http1"])
    static let appHello = DetectedProtocol.tls(serverName: "shop.example", alpn: ["h2", "http/1.1"])

    @Test func withoutAnIdentityInboundIsPlannedAsBefore() throws {
        let plain = try configuration("policy: { inbound: { default: allow } }")
        #expect(plan(try facts(), nil, plain).handling == .relay)
        // A sidecar's ClientHello is then nothing but TLS: there is no identity to terminate it with.
        #expect(plan(try facts(), Self.meshHello, plain).handling == .relay)
    }

    @Test func permissiveTerminatesSidecarsAndPassesTheRestThrough() throws {
        let permissive = try configuration(Self.identity)
        #expect(plan(try facts(), nil, permissive).handling == .detectFirst)
        #expect(plan(try facts(), Self.meshHello, permissive).handling == .terminateMeshTLS)
        #expect(plan(try facts(), Self.appHello, permissive).handling == .relay)
        #expect(plan(try facts(), .http1, permissive).handling == .relay)
        #expect(plan(try facts(), .silent, permissive).handling == .relay)
        // Once terminated, the caller's identity is known and the policy decides as for any connection.
        #expect(plan(try facts(peer: Self.frontend), .http1, permissive).handling == .relay)
    }

    @Test func inboundHTTPIsProxiedRequestByRequestWhereTheAppIsToldWhoCalled() throws {
        let forwarding = try configuration(
            "\(Self.identity)\nmtls: { forwardClientCert: true, ports: { 9090: disable } }")
        // So that no client's own x-forwarded-client-cert reaches the app, whoever the caller is.
        #expect(plan(try facts(), .http1, forwarding).handling == .http1)
        #expect(plan(try facts(), .http2, forwarding).handling == .http2)
        #expect(plan(try facts(peer: Self.frontend), .http1, forwarding).handling == .http1)
        #expect(plan(try facts(peer: Self.frontend), .http2, forwarding).handling == .http2)
        // A port left out of mutual TLS, outbound HTTP, and an app not told who called are relayed.
        #expect(plan(try facts(port: 9090), .http1, forwarding).handling == .relay)
        #expect(plan(try facts(.outbound, port: 80), .http1, forwarding).handling == .relay)
        let permissive = try configuration(Self.identity)
        #expect(plan(try facts(), .http1, permissive).handling == .relay)
        #expect(plan(try facts(peer: Self.frontend), .http1, permissive).handling == .relay)
    }

    @Test func theClientCertificateHeaderIsOursInboundAndTheAppsOutbound() throws {
        let element = ClientCertificateHeader.element(
            by: try SPIFFEID(parsing: "spiffe://cluster.local/ns/shop/sa/orders"), caller: Self.frontend,
            certificateHash: "ab12")
        #expect(
            element
                == "By=spiffe://cluster.local/ns/shop/sa/orders;Hash=ab12;URI=spiffe://cluster.local/ns/shop/sa/frontend"
        )
        #expect(
            ClientCertificateHeader.forRequest(direction: .inbound, element: element, forwarding: true)
                == .replaced(with: element))
        // Not configured, or a caller without an identity: the client's copies are removed and none is set.
        #expect(
            ClientCertificateHeader.forRequest(direction: .inbound, element: element, forwarding: false)
                == .replaced(with: nil))
        #expect(
            ClientCertificateHeader.forRequest(direction: .inbound, element: nil, forwarding: true)
                == .replaced(with: nil))
        #expect(
            ClientCertificateHeader.forRequest(direction: .outbound, element: nil, forwarding: true) == .untouched)
    }

    @Test func strictDeniesAllButMeshTLSAndDeclaredProbes() throws {
        let strict = try configuration(
            """
            \(Self.identity)
            mtls: { mode: strict, ports: { 5432: disable }, probes: [ { port: 8080, path: /healthz } ] }
            """)
        #expect(plan(try facts(), Self.meshHello, strict).handling == .terminateMeshTLS)
        for detected: DetectedProtocol in [Self.appHello, .opaque, .silent, .undecided, .http2] {
            let denied = plan(try facts(), detected, strict)
            #expect(denied.handling == .deny, "\(detected)")
            #expect(denied.decision?.ruleName == "mtls.strict")
        }
        // HTTP/1 to a port with probes is read request by request: each one is a probe or denied.
        #expect(plan(try facts(), .http1, strict).handling == .http1)
        #expect(plan(try facts(port: 9090), .http1, strict).handling == .deny)
        // A port left out of mutual TLS is not even read first.
        #expect(plan(try facts(port: 5432), nil, strict).handling == .relay)
        #expect(plan(try facts(peer: Self.frontend), .silent, strict).handling == .relay)
    }

    @Test func aStrictPortAnswersOnlyItsProbesToPlaintext() throws {
        let strict = try configuration(
            "\(Self.identity)\nmtls: { mode: strict, probes: [ { port: 8080, path: /healthz } ] }")
        func decide(_ method: String, _ path: String, peer: SPIFFEID? = nil, port: UInt16 = 8080) throws
            -> PolicyDecision
        {
            ConnectionPlanner.decide(
                HTTPRuleEvaluationTests.Request(method, path), on: try facts(port: port, peer: peer), in: strict,
                names: NameAddresses()
            ).decision
        }
        #expect(try decide("GET", "/healthz").ruleName == "mtls.probes")
        #expect(try decide("HEAD", "/healthz?verbose=1").action == .allow)
        #expect(try decide("GET", "/healthz/../admin") == ConnectionPlanner.strictDenial)
        #expect(try decide("POST", "/healthz") == ConnectionPlanner.strictDenial)
        #expect(try decide("GET", "/healthzz") == ConnectionPlanner.strictDenial)
        #expect(try decide("GET", "/healthz", port: 9090) == ConnectionPlanner.strictDenial)
        #expect(try decide("POST", "/orders", peer: Self.frontend).ruleName == "default")
    }

    @Test func meshedDestinationsAreDetectedThenOriginatedWithWhatWasDetected() throws {
        let meshed = try configuration(
            """
            \(Self.identity)
            mtls: { meshCidrs: [10.244.0.0/16] }
            services:
              - { name: pay, address: 10.96.0.20:80, endpoints: [10.244.3.3:8080], identities: ["*/sa/payments"] }
              - { name: ext, address: 10.96.0.21:80, endpoints: [203.0.113.9:80] }
              - { name: named, address: 10.96.0.22:80, endpoints: [pay.shop.svc:8080] }
              - { name: forced, address: 10.96.0.23:80, endpoints: [pay.shop.svc:8080], mtls: true }
            """)
        let pod = try facts(.outbound, to: "10.244.1.5")
        #expect(plan(pod, nil, meshed).handling == .detectFirst)
        #expect(plan(pod, .http1, meshed).mesh == MeshOrigination(alpn: .http1, expectedPeers: []))
        #expect(plan(pod, .http2, meshed).mesh?.alpn == .h2)
        #expect(plan(pod, .opaque, meshed).mesh?.alpn == .tcp)
        #expect(plan(pod, .silent, meshed).mesh?.alpn == .tcp)
        #expect(plan(pod, Self.appHello, meshed).mesh?.alpn == .tcp)
        let outside = try facts(.outbound, to: "203.0.113.9")
        #expect(plan(outside, nil, meshed).handling == .relay)
        #expect(plan(outside, nil, meshed).mesh == nil)
        #expect(plan(try facts(.outbound, to: "127.0.0.1"), nil, meshed).mesh == nil)
        let payments = try IdentityPattern(parsing: "*/sa/payments")
        #expect(
            plan(try facts(.outbound, to: "10.96.0.20", port: 80), .http1, meshed).mesh?.expectedPeers == [payments])
        #expect(plan(try facts(.outbound, to: "10.96.0.21", port: 80), .http1, meshed).mesh == nil)
        #expect(plan(try facts(.outbound, to: "10.96.0.22", port: 80), .http1, meshed).mesh == nil)
        #expect(plan(try facts(.outbound, to: "10.96.0.23", port: 80), .http1, meshed).mesh != nil)
        // A denied connection opens nothing.
        let denying = try configuration(
            "\(Self.identity)\nmtls: { meshCidrs: [10.244.0.0/16] }\npolicy: { outbound: { default: deny } }")
        #expect(plan(pod, .http1, denying).mesh == nil)
    }

    @Test func sharedConnectionsTakeMeshedHTTPRequestByRequestAndASidecarsStreamsApart() throws {
        let meshed = try configuration("\(Self.identity)\nmtls: { meshCidrs: [10.244.0.0/16] }")
        let sharing = try configuration(
            "\(Self.identity)\nmtls: { meshCidrs: [10.244.0.0/16], shareConnections: true }")
        let pod = try facts(.outbound, to: "10.244.1.5")
        // Unshared, meshed HTTP/1.1 is relayed over a connection of its own, as before.
        #expect(plan(pod, .http1, meshed).handling == .relay)
        #expect(plan(pod, .http1, meshed).mesh?.sharesConnections == false)
        // Shared, each HTTP/1.1 request may become a stream; HTTP/2 too where it is proxied stream by stream anyway
        // (an HTTP rule in reach), else its connection is relayed in a tunnel of its own; bytes are relayed.
        #expect(plan(pod, .http1, sharing).handling == .http1)
        #expect(
            plan(pod, .http1, sharing).mesh == MeshOrigination(alpn: .http1, expectedPeers: [], sharesConnections: true)
        )
        #expect(plan(pod, .http2, sharing).handling == .relay)
        #expect(plan(pod, .http2, sharing).mesh?.sharesConnections == false)
        let sharingWithRules = try configuration(
            "\(Self.identity)\nmtls: { meshCidrs: [10.244.0.0/16], shareConnections: true }\n"
                + "policy: { outbound: { rules: [ { action: deny, http: { pathPrefix: /admin } } ] } }")
        #expect(plan(pod, .http2, sharingWithRules).handling == .http2)
        #expect(
            plan(pod, .http2, sharingWithRules).mesh
                == MeshOrigination(alpn: .h2, expectedPeers: [], sharesConnections: true))
        #expect(plan(pod, .opaque, sharing).handling == .relay)
        #expect(plan(try facts(.outbound, to: "203.0.113.9"), .http1, sharing).handling == .relay)
        // The terminating side reads a shared connection stream by stream, whatever the policy.
        #expect(MeshALPN.streams.inner == .meshStreams && MeshALPN(detected: .meshStreams) == .streams)
        #expect(
            plan(try facts(), .tls(serverName: nil, alpn: ["sidecar.mesh/streams"]), meshed).handling
                == .terminateMeshTLS)
        #expect(plan(try facts(peer: Self.frontend), .meshStreams, meshed).handling == .http2)
        let denying = try configuration("\(Self.identity)\npolicy: { inbound: { default: deny } }")
        #expect(plan(try facts(peer: Self.frontend), .meshStreams, denying).handling == .http2)
    }

    @Test func identityRulesDecideByTheCaller() throws {
        let policy = try configuration(
            """
            \(Self.identity)
            policy:
              inbound:
                default: deny
                rules:
                  - { action: allow, name: frontend, from: { principals: ["spiffe://cluster.local/ns/shop/sa/frontend"] } }
            """)
        #expect(plan(try facts(peer: Self.frontend), .silent, policy).decision?.ruleName == "frontend")
        #expect(plan(try facts(peer: Self.batch), .silent, policy).handling == .deny)
        // HTTP denied for who the caller is gets 403 request by request, decided the same way.
        #expect(plan(try facts(peer: Self.batch), .http1, policy).handling == .http1)
        let request = HTTPRuleEvaluationTests.Request("GET", "/")
        #expect(
            ConnectionPlanner.decide(request, on: try facts(peer: Self.batch), in: policy, names: NameAddresses())
                .decision.ruleName == "default")
        // A plaintext caller claims nothing an allow by identity could match.
        #expect(plan(try facts(), .http1, policy).handling == .deny)
        #expect(plan(try facts(), .opaque, policy).decision?.ruleName == "default")
    }
}
