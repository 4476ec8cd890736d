import Foundation
import Interception
import Intrusion
import Policy
import Testing

/// The `ids:` section as the loader reads it, and intrusion detection in the one function that plans connections
/// and the one that decides requests: a blocked source is reset before anything else, signatures make HTTP proxied
/// request by request, and a match denies in `prevent` mode only.
@Suite struct IntrusionPlanningTests {
    func configuration(_ yaml: String) throws -> ProxyConfiguration {
        try ConfigurationLoader.load(yaml: yaml).get()
    }

    func problems(_ yaml: String) -> [String] {
        guard case .failure(let error) = ConfigurationLoader.load(yaml: yaml) else { return [] }
        return error.problems
    }

    func facts(_ direction: TrafficDirection = .inbound, blocked: Bool = false) throws -> ConnectionFacts {
        ConnectionFacts(
            direction: direction, destinationAddress: try IPNetwork(parsing: "10.244.1.5").address,
            destinationPort: 8080, sourceAddress: try IPNetwork(parsing: "10.244.2.7").address, sourceBlocked: blocked)
    }

    func plan(_ facts: ConnectionFacts, _ detected: DetectedProtocol?, _ configuration: ProxyConfiguration)
        -> ConnectionPlan
    {
        ConnectionPlanner.plan(facts, detected: detected, in: configuration, names: NameAddresses())
    }

    func decide(_ target: String, headers: [String: String] = [:], _ configuration: ProxyConfiguration) throws
        -> RequestVerdict
    {
        ConnectionPlanner.decide(
            HTTPRuleEvaluationTests.Request("GET", target, headers: headers), on: try facts(), in: configuration,
            names: NameAddresses())
    }

    @Test func theContractsExampleLoadsWithItsDefaults() throws {
        let loaded = try configuration(
            """
            ids:
              inbound:
                mode: prevent
                scan: { distinctPorts: 20, window: 10s, action: block, blockFor: 5m }
                denials: { count: 20, window: 10s, action: block, blockFor: 5m }
                signatures: { sets: [all], inspectBodyBytes: 0, custom: [] }
              outbound:
                mode: detect
                scan: { distinctPorts: 20, distinctAddresses: 50, window: 10s, action: alert }
                signatures: { sets: [sqli, scanners] }
              maxBlockedSources: 10000
            """)
        let inbound = try #require(loaded.intrusionDetection(for: .inbound))
        #expect(inbound.mode == .prevent)
        #expect(inbound.scan?.response == .block(for: .seconds(300)))
        #expect(inbound.denials?.count == 20)
        #expect(inbound.signatures?.sets == SignatureSet.allCases)
        let outbound = try #require(loaded.intrusionDetection(for: .outbound))
        #expect(outbound.scan?.distinctAddresses == 50)
        #expect(outbound.scan?.response == .alert)
        #expect(outbound.signatures?.sets == [.sqli, .scanners])
        #expect(
            try configuration("ids: { inbound: { scan: {} } }").intrusionDetection?.inbound?.scan?.distinctPorts == 20)
        #expect(try configuration("").intrusionDetection == nil)
    }

    @Test(arguments: [
        ("ids: { inbound: { mode: block } }", "ids.inbound.mode"),
        ("ids: { inbound: {} }", "names no detector"),
        ("ids: { inbound: { scan: { distinctPorts: 1 } } }", "ids.inbound.scan.distinctPorts"),
        ("ids: { inbound: { scan: { window: 100ms } } }", "ids.inbound.scan.window"),
        ("ids: { inbound: { scan: { blockFor: 5m } } }", "only with action: block"),
        ("ids: { inbound: { denials: { action: block, blockFor: 2d } } }", "ids.inbound.denials.blockFor"),
        ("ids: { inbound: { signatures: { sets: [sql] } } }", "'sql' is not a signature set"),
        ("ids: { inbound: { signatures: { inspectBodyBytes: 65537 } } }", "ids.inbound.signatures.inspectBodyBytes"),
        ("ids: { inbound: { signatures: { inspectBodyBytes: -1 } } }", "ids.inbound.signatures.inspectBodyBytes"),
        ("ids: { inbound: { signatures: { custom: [ { id: X, pattern: a } ] } } }", "'X' is not 1 to 64"),
        ("ids: { inbound: { signatures: { custom: [ { id: x } ] } } }", "a signature needs pattern"),
        ("ids: { inbound: { signatures: { custom: [ { id: x, pattern: '(a+)\\1' } ] } } }", "backreferences"),
        ("ids: { inbound: { signatures: { custom: [ { id: sqli-union-select, pattern: a } ] } } }", "names another"),
        ("ids: { inbound: { signatures: { custom: [ { id: x, pattern: a, in: [body] } ] } } }", "'body' is not"),
        ("ids: { maxBlockedSources: 0 }", "ids.maxBlockedSources"),
        ("ids: { sideways: {} }", "sideways"),
    ])
    func badSettingsAreRefusedByKeyPath(yaml: String, expected: String) {
        let found = problems(yaml)
        #expect(found.contains { $0.contains(expected) }, "\(found)")
    }

    @Test func aCustomSignatureReadsWhatItSays() throws {
        let loaded = try configuration(
            """
            ids:
              inbound:
                signatures:
                  sets: [traversal]
                  custom: [ { id: acme.debug, name: Debug console, severity: high, pattern: '/debug/console', in: [target] } ]
            """)
        let verdict = try decide("/debug/console?x=1", loaded)
        #expect(verdict.signature?.signature.id == "acme.debug")
        #expect(verdict.signature?.signature.severity == .high)
        #expect(try decide("/", headers: ["referer": "/debug/console"], loaded).signature == nil)
    }

    @Test func aBlockedSourceIsResetBeforeAnythingElse() throws {
        let open = try configuration("policy: { inbound: { default: allow } }")
        let plan = plan(try facts(blocked: true), nil, open)
        #expect(plan.handling == .deny)
        #expect(plan.decision == ConnectionPlanner.blockedSource)
        #expect(self.plan(try facts(), nil, open).handling == .relay)
    }

    /// Prevent mode proxies each request, to refuse one; detect mode relays HTTP/1 untouched and reads its requests
    /// on the side. HTTP/2 is proxied stream by stream either way.
    @Test func signaturesReadEveryHTTPRequest() throws {
        let yaml = "policy: { inbound: { default: allow } }\nids: { inbound: { mode: MODE, signatures: {} } }"
        let prevent = try configuration(yaml.replacingOccurrences(of: "MODE", with: "prevent"))
        #expect(plan(try facts(), nil, prevent).handling == .detectFirst)
        #expect(plan(try facts(), .http1, prevent).handling == .http1)
        #expect(plan(try facts(), .http2, prevent).handling == .http2)
        #expect(!plan(try facts(), .http1, prevent).observesRequests)
        let detect = try configuration(yaml.replacingOccurrences(of: "MODE", with: "detect"))
        let observed = plan(try facts(), .http1, detect)
        #expect(observed.handling == .relay)
        #expect(observed.observesRequests)
        #expect(plan(try facts(), .http2, detect).handling == .http2)
        // What is not HTTP has no requests to read: it is relayed as before.
        #expect(plan(try facts(), .opaque, prevent).handling == .relay)
        #expect(!plan(try facts(), .opaque, detect).observesRequests)
        // The other direction is not inspected.
        #expect(plan(try facts(.outbound), nil, prevent).handling == .relay)
        // An HTTP rule proxies each request already: the signatures read it there.
        let ruled = try configuration(
            "policy: { inbound: { rules: [ { action: deny, http: { pathPrefix: /admin } } ] } }\n"
                + "ids: { inbound: { signatures: {} } }")
        #expect(plan(try facts(), .http1, ruled).handling == .http1)
        #expect(!plan(try facts(), .http1, ruled).observesRequests)
    }

    @Test func aMatchDeniesInPreventModeOnly() throws {
        let yaml = "policy: { inbound: { default: allow } }\nids: { inbound: { mode: MODE, signatures: {} } }"
        let prevent = try configuration(yaml.replacingOccurrences(of: "MODE", with: "prevent"))
        let refused = try decide("/items?id=1%20UNION%20SELECT%20password%20FROM%20users", prevent)
        #expect(refused.decision.action == .deny)
        #expect(refused.decision.ruleName == "ids.sqli-union-select")
        #expect(refused.refusedBySignature)
        let detect = try configuration(yaml.replacingOccurrences(of: "MODE", with: "detect"))
        let alerted = try decide("/items?id=1%20UNION%20SELECT%20password%20FROM%20users", detect)
        #expect(alerted.decision.action == .allow)
        #expect(alerted.signature?.signature.id == "sqli-union-select")
        #expect(!alerted.refusedBySignature)
        // A header is read too, and an ordinary request matches nothing.
        #expect(
            try decide("/", headers: ["user-agent": "sqlmap/1.7.2#stable"], prevent).decision.ruleName
                == "ids.scanner-sqlmap")
        let ordinary = try decide("/search?q=union+station&sort=price", headers: ["accept": "*/*"], prevent)
        #expect(ordinary.signature == nil)
        #expect(ordinary.decision.action == .allow)
    }

    @Test func formAndJSONBodiesAreHeldAndRead() throws {
        let reading = try configuration(
            "policy: { inbound: { default: allow } }\nids: { inbound: { mode: prevent, signatures: { inspectBodyBytes: 4096 } } }"
        )
        func held(_ contentType: String?) throws -> Int? {
            ConnectionPlanner.bodyBytesToInspect(
                HTTPRuleEvaluationTests.Request("POST", "/", headers: contentType.map { ["content-type": $0] } ?? [:]),
                on: try facts(), in: reading)
        }
        #expect(try held("application/json") == 4096)
        #expect(try held("Application/JSON; charset=utf-8") == 4096)
        #expect(try held("application/x-www-form-urlencoded") == 4096)
        #expect(try held("multipart/form-data; boundary=x") == 4096)
        #expect(try held("application/merge-patch+json") == 4096)
        #expect(try held("application/octet-stream") == nil)
        #expect(try held("image/png") == nil)
        #expect(try held(nil) == nil)
        // Not read unless asked for.
        let headOnly = try configuration("ids: { inbound: { signatures: {} } }")
        #expect(
            ConnectionPlanner.bodyBytesToInspect(
                HTTPRuleEvaluationTests.Request("POST", "/", headers: ["content-type": "application/json"]),
                on: try facts(), in: headOnly) == nil)

        let post = HTTPRuleEvaluationTests.Request("POST", "/api/items", headers: ["content-type": "application/json"])
        let attack = Array(#"{"name":"x' UNION SELECT password FROM users--"}"#.utf8)
        let refused = ConnectionPlanner.decide(
            post, body: attack, on: try facts(), in: reading, names: NameAddresses())
        #expect(refused.decision.ruleName == "ids.sqli-union-select")
        #expect(refused.signature?.location == "body")
        let form = Array("comment=%3Cscript%3Ealert(1)%3C%2Fscript%3E".utf8)
        #expect(
            ConnectionPlanner.decide(post, body: form, on: try facts(), in: reading, names: NameAddresses())
                .signature?.signature.id == "xss-script-tag")
        let ordinary = Array(#"{"name":"Ada","note":"it's done; or not","tags":["a","b"]}"#.utf8)
        #expect(
            ConnectionPlanner.decide(post, body: ordinary, on: try facts(), in: reading, names: NameAddresses())
                .decision.action == .allow)
    }
}
