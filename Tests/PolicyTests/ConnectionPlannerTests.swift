import Interception
import Policy
import Testing

/// The one function that decides a connection: the loop check, when first bytes are needed, and what cannot be told
/// failing closed.
@Suite struct ConnectionPlannerTests {
    func configuration(_ yaml: String) throws -> ProxyConfiguration {
        try ConfigurationLoader.load(yaml: yaml).get()
    }

    func facts(_ direction: TrafficDirection = .outbound, to destination: String = "10.1.2.3", port: UInt16 = 80)
        throws -> ConnectionFacts
    {
        ConnectionFacts(
            direction: direction, destinationAddress: try IPNetwork(parsing: destination).address,
            destinationPort: port, sourceAddress: try IPNetwork(parsing: "10.0.0.2").address)
    }

    static let denyAdmin =
        "policy: { outbound: { rules: [ { action: deny, name: no-admin, http: { pathPrefix: /admin } } ] } }"
    static let allowOnlyPartner = """
        policy: { outbound: { default: deny, rules: [ { action: allow, name: partner, http: { host: api.partner.test } } ] } }
        """

    /// The proxy's own ports: inbound always, outbound only on loopback (a pod address on 15001 is someone else's).
    @Test func aConnectionToTheProxyItselfIsALoop() throws {
        let defaults = ProxyConfiguration()
        #expect(
            ConnectionPlanner.plan(
                try facts(.inbound, port: 15000), detected: nil, in: defaults, names: NameAddresses()
            ).handling
                == .refuseLoop)
        #expect(
            ConnectionPlanner.plan(
                try facts(to: "127.0.0.1", port: 15001), detected: nil, in: defaults, names: NameAddresses()
            ).handling
                == .refuseLoop)
        #expect(
            ConnectionPlanner.plan(
                try facts(to: "::1", port: 15020), detected: nil, in: defaults, names: NameAddresses()
            ).handling
                == .refuseLoop)
        #expect(
            ConnectionPlanner.plan(try facts(port: 15001), detected: nil, in: defaults, names: NameAddresses()).handling
                == .relay)
    }

    /// First bytes are waited for only when a rule in reach or request-by-request proxying needs them.
    @Test func firstBytesOnlyWhenTheyMatter() throws {
        let l4 = try configuration(
            "policy: { outbound: { rules: [ { action: deny, ports: [22] }, { action: deny, sni: [x.test] } ] } }")
        #expect(
            ConnectionPlanner.plan(try facts(port: 22), detected: nil, in: l4, names: NameAddresses()).handling == .deny
        )
        #expect(
            ConnectionPlanner.plan(try facts(port: 443), detected: nil, in: l4, names: NameAddresses()).handling
                == .detectFirst)
        let limited = try configuration("limits: [ { ports: [80], requestsPerSecond: 5 } ]")
        #expect(
            ConnectionPlanner.plan(try facts(port: 80), detected: nil, in: limited, names: NameAddresses()).handling
                == .detectFirst)
        #expect(
            ConnectionPlanner.plan(try facts(port: 81), detected: nil, in: limited, names: NameAddresses()).handling
                == .relay)
        let service = try configuration(
            "services: [ { name: orders, address: 10.96.0.10:80, endpoints: [10.1.0.5:8080] } ]")
        let toService = ConnectionPlanner.plan(
            try facts(to: "10.96.0.10", port: 80), detected: nil, in: service, names: NameAddresses())
        #expect(toService.handling == .detectFirst && toService.service?.name == "orders")
        #expect(
            ConnectionPlanner.plan(
                try facts(.inbound, to: "10.96.0.10", port: 80), detected: nil, in: service, names: NameAddresses()
            ).service
                == nil)
    }

    /// HTTP with an HTTP rule in reach is decided request by request; other bytes by the rules that can tell.
    @Test func httpIsDecidedPerRequest() throws {
        let policy = try configuration(Self.denyAdmin)
        #expect(
            ConnectionPlanner.plan(try facts(), detected: .http1, in: policy, names: NameAddresses()).handling == .http1
        )
        #expect(
            ConnectionPlanner.plan(try facts(), detected: .http2, in: policy, names: NameAddresses()).handling == .http2
        )
        #expect(
            ConnectionPlanner.plan(try facts(), detected: .opaque, in: policy, names: NameAddresses()).handling
                == .relay)
        #expect(
            ConnectionPlanner.plan(try facts(), detected: .silent, in: policy, names: NameAddresses()).handling
                == .relay)
    }

    /// Bytes that could still have been a request when the detect timeout ran out meet the HTTP deny rules, and no
    /// HTTP allow rule: whichever way the policy leans, what the proxy cannot tell is not let through by HTTP rules.
    @Test func undecidedBytesFailClosed() throws {
        let denied = ConnectionPlanner.plan(
            try facts(), detected: .undecided, in: try configuration(Self.denyAdmin), names: NameAddresses())
        #expect(denied.handling == .deny && denied.decision?.ruleName == "no-admin")
        let notAllowed = ConnectionPlanner.plan(
            try facts(), detected: .undecided, in: try configuration(Self.allowOnlyPartner), names: NameAddresses())
        #expect(notAllowed.handling == .deny && notAllowed.decision?.ruleName == "default")
        // A limit that counts requests, without HTTP rules: relayed, and counted as one request.
        let limited = ConnectionPlanner.plan(
            try facts(), detected: .undecided, in: try configuration("limits: [ { requestsPerSecond: 5 } ]"),
            names: NameAddresses())
        #expect(limited.handling == .relay && limited.countsAsOneRequest)
    }

    /// Late bytes walk the rules in order like any others: an allow by name ahead of a catch-all deny admits a late
    /// ClientHello for that name to one of its addresses.
    @Test func lateBytesMeetAnAllowByNameAheadOfADeny() throws {
        let policy = try configuration(
            "policy: { outbound: { rules: [ { action: allow, sni: [partner.test] }, { action: deny, name: rest, sni: [\"*.test\"] } ] } }"
        )
        var names = NameAddresses()
        names.learn("partner.test", addresses: [([10, 1, 2, 3], 60)])
        let hello = DetectedProtocol.tls(serverName: "partner.test", alpn: [])
        #expect(ConnectionPlanner.judgeLateBytes(try facts(), detected: hello, in: policy, names: names) == nil)
        #expect(
            ConnectionPlanner.judgeLateBytes(try facts(to: "10.9.9.9"), detected: hello, in: policy, names: names)?
                .ruleName == "rest")
    }

    /// The late first bytes of a silent connection: deny rules apply (HTTP ones fail closed), allow rules change
    /// nothing.
    @Test func lateBytesMeetTheDenyRules() throws {
        let policy = try configuration(Self.denyAdmin)
        #expect(
            ConnectionPlanner.judgeLateBytes(try facts(), detected: .http1, in: policy, names: NameAddresses())?
                .ruleName == "no-admin")
        #expect(
            ConnectionPlanner.judgeLateBytes(try facts(), detected: .undecided, in: policy, names: NameAddresses())?
                .ruleName == "no-admin")
        #expect(
            ConnectionPlanner.judgeLateBytes(try facts(), detected: .opaque, in: policy, names: NameAddresses()) == nil)
        let sni = try configuration("policy: { outbound: { rules: [ { action: deny, name: no-x, sni: [x.test] } ] } }")
        #expect(
            ConnectionPlanner.judgeLateBytes(
                try facts(), detected: .tls(serverName: "x.test", alpn: []), in: sni, names: NameAddresses())?
                .ruleName == "no-x")
        #expect(
            ConnectionPlanner.judgeLateBytes(
                try facts(), detected: .tls(serverName: nil, alpn: []), in: sni, names: NameAddresses()) != nil)
        #expect(
            ConnectionPlanner.judgeLateBytes(
                try facts(), detected: .tls(serverName: "y.test", alpn: []), in: sni, names: NameAddresses())
                == nil)
    }
}
