import Interception
import Policy
import Testing

@Suite struct PolicyEvaluatorTests {
    func rule(_ action: PolicyAction, cidrs: String = "", ports: String = "", sources: String = "", name: String? = nil)
        throws -> PolicyRule
    {
        var rule = PolicyRule(action: action)
        rule.name = name
        rule.cidrs = try CaptureListParser.networks(cidrs)
        rule.ports = try CaptureListParser.ports(ports)
        rule.sourceCidrs = try CaptureListParser.networks(sources)
        return rule
    }

    func facts(
        _ direction: TrafficDirection = .outbound, to destination: String, port: UInt16,
        from source: String = "10.0.0.2"
    )
        throws -> ConnectionFacts
    {
        ConnectionFacts(
            direction: direction, destinationAddress: try IPNetwork(parsing: destination).address,
            destinationPort: port, sourceAddress: try IPNetwork(parsing: source).address)
    }

    @Test func theFirstMatchingRuleWins() throws {
        var policy = DirectionPolicy()
        policy.rules = [
            try rule(.allow, cidrs: "10.1.0.0/16", name: "inner"), try rule(.deny, cidrs: "10.0.0.0/8"),
        ]
        let inner = PolicyEvaluator.decide(policy, for: try facts(to: "10.1.2.3", port: 80))
        #expect(inner == PolicyDecision(action: .allow, ruleIndex: 0, ruleName: "inner"))
        let outer = PolicyEvaluator.decide(policy, for: try facts(to: "10.2.0.1", port: 80))
        #expect(outer == PolicyDecision(action: .deny, ruleIndex: 1, ruleName: "rules[1]"))
        let elsewhere = PolicyEvaluator.decide(policy, for: try facts(to: "192.0.2.1", port: 80))
        #expect(elsewhere == PolicyDecision(action: .allow, ruleIndex: nil, ruleName: "default"))
    }

    /// Network edges, port range edges, and both conditions needed together.
    @Test(arguments: [
        ("172.16.0.0", 8000, true), ("172.31.255.255", 8999, true), ("172.32.0.0", 8000, false),
        ("172.15.255.255", 8000, false), ("172.20.0.1", 7999, false), ("172.20.0.1", 9000, false),
        ("fd00::1", 8000, false),
    ])
    func networkAndPortEdges(destination: String, port: Int, denied: Bool) throws {
        var policy = DirectionPolicy()
        policy.rules = [try rule(.deny, cidrs: "172.16.0.0/12", ports: "8000-8999")]
        let decision = PolicyEvaluator.decide(policy, for: try facts(to: destination, port: UInt16(port)))
        #expect((decision.action == .deny) == denied)
    }

    @Test func ipv6Networks() throws {
        var policy = DirectionPolicy()
        policy.defaultAction = .deny
        policy.rules = [try rule(.allow, cidrs: "fd00:77::/32")]
        #expect(
            PolicyEvaluator.decide(policy, for: try facts(to: "fd00:77:1::5", port: 1, from: "fd00::2")).action
                == .allow)
        #expect(
            PolicyEvaluator.decide(policy, for: try facts(to: "fd00:78::5", port: 1, from: "fd00::2")).action == .deny)
        #expect(PolicyEvaluator.decide(policy, for: try facts(to: "10.0.0.1", port: 1)).action == .deny)
    }

    /// Source networks only ever match inbound connections.
    @Test func sourceNetworksMatchInboundOnly() throws {
        var policy = DirectionPolicy()
        policy.rules = [try rule(.deny, sources: "192.0.2.0/24")]
        #expect(
            PolicyEvaluator.decide(policy, for: try facts(.inbound, to: "10.0.0.2", port: 80, from: "192.0.2.9")).action
                == .deny)
        #expect(
            PolicyEvaluator.decide(policy, for: try facts(.inbound, to: "10.0.0.2", port: 80, from: "198.51.100.1"))
                .action == .allow)
        #expect(
            PolicyEvaluator.decide(policy, for: try facts(.outbound, to: "10.0.0.2", port: 80, from: "192.0.2.9"))
                .action == .allow)
    }

    @Test func hostPatterns() throws {
        let wildcard = try HostPattern(parsing: "*.Example.com")
        #expect(
            wildcard.matches("a.example.com") && wildcard.matches("A.B.EXAMPLE.COM.")
                && !wildcard.matches("example.com"))
        #expect(!wildcard.matches("badexample.com"))
        let exact = try HostPattern(parsing: "api.internal")
        #expect(exact.matches("API.internal") && !exact.matches("x.api.internal"))
        for bad in ["", "*", "*.", "a..b", "-a.com", "a*.com", "a b.com"] {
            #expect(throws: HostPattern.ParseError.self) { try HostPattern(parsing: bad) }
        }
    }
}

@Suite struct ServerNameRuleTests {
    func policy(_ rules: [PolicyRule], default action: PolicyAction = .allow) -> DirectionPolicy {
        var policy = DirectionPolicy()
        policy.defaultAction = action
        policy.rules = rules
        return policy
    }

    func sniRule(_ action: PolicyAction, _ patterns: String...) throws -> PolicyRule {
        var rule = PolicyRule(action: action)
        rule.sni = try patterns.map { try HostPattern(parsing: $0) }
        return rule
    }

    let facts = ConnectionFacts(
        direction: .outbound, destinationAddress: [192, 0, 2, 1], destinationPort: 443, sourceAddress: [10, 0, 0, 2])

    @Test func namesDecide() throws {
        let rules = policy([try sniRule(.deny, "*.blocked.test")])
        #expect(
            PolicyEvaluator.decide(rules, for: facts, detected: .tls(serverName: "a.blocked.test", alpn: [])).action
                == .deny)
        #expect(
            PolicyEvaluator.decide(rules, for: facts, detected: .tls(serverName: "ok.test", alpn: [])).action == .allow)
        #expect(PolicyEvaluator.decide(rules, for: facts, detected: .opaque).action == .allow)
    }

    /// TLS whose name could not be read matches deny rules and no allow rule: never a way around a deny.
    @Test func anUnreadableNameFailsClosed() throws {
        let unknown = DetectedProtocol.tls(serverName: nil, alpn: [])
        #expect(
            PolicyEvaluator.decide(policy([try sniRule(.deny, "x.test")]), for: facts, detected: unknown).action
                == .deny)
        let allowList = policy([try sniRule(.allow, "x.test")], default: .deny)
        #expect(PolicyEvaluator.decide(allowList, for: facts, detected: unknown).action == .deny)
    }

    /// An allow by server name admits a connection only to an address the name resolved to (for its TTL); a deny
    /// by name denies on the claim alone.
    @Test func anAllowByNameIsAboutTheNamesAddresses() throws {
        var names = NameAddresses()
        names.learn("x.test", addresses: [([192, 0, 2, 1], 30)])
        let allowList = policy([try sniRule(.allow, "*.test")], default: .deny)
        let claim = DetectedProtocol.tls(serverName: "X.test", alpn: [])
        #expect(PolicyEvaluator.decide(allowList, for: facts, detected: claim, names: names).action == .allow)
        var elsewhere = facts
        elsewhere.destinationAddress = [198, 51, 100, 7]
        #expect(PolicyEvaluator.decide(allowList, for: elsewhere, detected: claim, names: names).action == .deny)
        names.asOf = names.asOf + .seconds(31)
        #expect(PolicyEvaluator.decide(allowList, for: facts, detected: claim, names: names).action == .deny)
        let denyList = policy([try sniRule(.deny, "x.test")])
        #expect(PolicyEvaluator.decide(denyList, for: elsewhere, detected: claim).action == .deny)
        // Inbound, the destination is the pod itself, which no claimed name resolves to: the name alone decides.
        var inbound = facts
        inbound.direction = .inbound
        #expect(PolicyEvaluator.decide(allowList, for: inbound, detected: claim).action == .allow)
    }

    /// Detection is needed only when the first rule that matches at L4 is an SNI rule.
    @Test func detectionOnlyWhenAnSNIRuleCouldDecide() throws {
        var earlier = PolicyRule(action: .allow)
        earlier.ports = [PortRange(443)]
        #expect(!PolicyEvaluator.needsDetection(policy([earlier, try sniRule(.deny, "x.test")]), for: facts))
        #expect(PolicyEvaluator.needsDetection(policy([try sniRule(.deny, "x.test"), earlier]), for: facts))
        var elsewhere = try sniRule(.deny, "x.test")
        elsewhere.ports = [PortRange(8443)]
        #expect(!PolicyEvaluator.needsDetection(policy([elsewhere]), for: facts))
    }
}
