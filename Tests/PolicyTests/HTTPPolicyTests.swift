import Interception
import Policy
import Testing

/// HTTP requests as policy reads them: targets in normal form, the framing checks against smuggling, and the rules
/// decided per request.
@Suite struct RequestTargetTests {
    /// Matching must see what the upstream will serve: dot segments, doubled slashes and escaped unreserved
    /// characters cannot hide a path from a rule.
    @Test(arguments: [
        ("/admin", "/admin"), ("/a/../admin", "/admin"), ("//admin", "/admin"), ("/%61dmin", "/admin"),
        ("/./admin/", "/admin/"), ("/a/b/..", "/a/"), ("/..", "/"), ("/../../admin", "/admin"),
        ("/%2e%2e/admin", "/admin"), ("/a%2fb", "/a%2Fb"), ("/a?b=/admin", "/a"), ("/a#x", "/a"),
        ("/", "/"), ("/a/.", "/a/"),
    ])
    func pathsAreNormalizedForMatching(target: String, path: String) throws {
        let parsed = try #require(RequestTarget(parsing: target, isConnect: false))
        #expect(parsed.path == path)
        #expect(parsed.authority == nil)
    }

    @Test func absoluteFormNamesItsAuthority() throws {
        let parsed = try #require(RequestTarget(parsing: "http://API.example:8080/x/../y?q", isConnect: false))
        #expect(parsed.authority == "API.example:8080")
        #expect(parsed.path == "/y")
        #expect(RequestTarget(parsing: "https://h", isConnect: false)?.path == "/")
    }

    @Test(arguments: ["admin", "", "http://user@h/", "/bad%zz", "/bad%4", "ftp://h/"])
    func malformedTargetsAreRefused(target: String) {
        #expect(RequestTarget(parsing: target, isConnect: false) == nil)
    }

    @Test func connectTakesAnAuthorityOnly() {
        #expect(RequestTarget(parsing: "db.internal:5432", isConnect: true)?.authority == "db.internal:5432")
        #expect(RequestTarget(parsing: "/x", isConnect: true) == nil)
        #expect(RequestTarget(parsing: "*", isConnect: false)?.path == "*")
    }

    @Test(arguments: [
        ("api.internal", "api.internal"), ("api.internal:8080", "api.internal"), ("[fd00::1]:80", "fd00::1"),
        ("10.0.0.1:80", "10.0.0.1"),
    ])
    func hostsLoseTheirPort(authority: String, host: String) {
        #expect(RequestTarget.host(ofAuthority: Substring(authority)) == Substring(host))
    }

    @Test func malformedHostsAreNil() {
        #expect(RequestTarget.host(ofAuthority: ":80") == nil)
        #expect(RequestTarget.host(ofAuthority: "[fd00::1") == nil)
    }
}

@Suite struct HTTPRequestRejectionTests {
    func check(
        http11: Bool = true, hosts: [String] = ["a"], transferEncodings: [String] = [], target: String = "/"
    ) -> HTTPRequestRejection? {
        switch HTTPRequestRejection.check(
            isHTTP11: http11, hosts: hosts, transferEncodings: transferEncodings, target: target, isConnect: false)
        {
        case .success: nil
        case .failure(let rejection): rejection
        }
    }

    @Test func aPlainRequestPasses() {
        #expect(check() == nil)
        #expect(check(transferEncodings: ["Chunked"]) == nil)
        #expect(check(http11: false, hosts: []) == nil)
    }

    @Test func eachProblemHasItsReason() {
        #expect(check(hosts: [])?.reason == "HTTP/1.1 request without a Host header")
        #expect(check(hosts: ["a", "a"])?.reason == "more than one Host header")
        #expect(check(hosts: [":80"])?.reason == "malformed Host header")
        #expect(
            check(transferEncodings: ["gzip, chunked"])?.reason == "Transfer-Encoding other than a single 'chunked'")
        #expect(check(transferEncodings: ["chunked", "chunked"])?.status == 400)
        #expect(check(target: "admin")?.reason == "malformed request target")
        #expect(
            check(http11: false, transferEncodings: ["chunked"])?.reason == "Transfer-Encoding on an HTTP/1.0 request")
        #expect(check(hosts: ["b"], target: "http://a/x")?.reason == "Host does not match the request target")
        #expect(check(hosts: ["A:80"], target: "http://a/x") == nil)
        #expect(check(target: "/" + String(repeating: "a", count: 8191)) == nil)
        #expect(check(target: "/" + String(repeating: "a", count: 8192))?.status == 414)
    }
}

@Suite struct HTTPRuleEvaluationTests {
    struct Request: HTTPRequestFacts {
        var method = "GET"
        var host: Substring? = "api.internal"
        var target = RequestTarget(parsing: "/", isConnect: false)!
        var headers: [String: String] = [:]

        init(
            _ method: String = "GET", _ target: String = "/", host: Substring? = "api.internal",
            headers: [String: String] = [:]
        ) {
            self.method = method
            self.target = RequestTarget(parsing: target, isConnect: false)!
            self.host = host
            self.headers = headers
        }

        func hasHeader(_ name: String, matching value: HeaderValueMatch, ignoringCase: Bool) -> Bool {
            headers[name].map { value.matches($0, ignoringCase: ignoringCase) } ?? false
        }
        func header(_ name: String) -> String? { headers[name] }
        func firstHeaderField<Result>(_ body: (String, String) -> Result?) -> Result? {
            for (name, value) in headers.sorted(by: { $0.key < $1.key }) {
                if let result = body(name, value) { return result }
            }
            return nil
        }
    }

    let facts = ConnectionFacts(
        direction: .outbound, destinationAddress: [192, 0, 2, 1], destinationPort: 80, sourceAddress: [10, 0, 0, 2])
    /// The hosts the requests name resolved to the destination.
    let names: NameAddresses = {
        var names = NameAddresses()
        for host in ["api.internal", "api.example"] { names.learn(host, addresses: [([192, 0, 2, 1], 60)]) }
        return names
    }()

    func httpRule(
        _ action: PolicyAction, host: String? = nil, methods: [String] = [], pathPrefix: String? = nil,
        headers: [String: HeaderValueMatch] = [:], ports: String = ""
    ) throws -> PolicyRule {
        var rule = PolicyRule(action: action)
        var match = HTTPRuleMatch()
        match.host = try host.map { try HostPattern(parsing: $0) }
        match.methods = methods
        match.pathPrefix = pathPrefix
        match.headers = headers
        rule.http = match
        rule.ports = try CaptureListParser.ports(ports)
        return rule
    }

    /// A header condition matches by value exactly or, written `{ prefix: … }`, by the value's start; an allow as
    /// written, a deny in any case.
    @Test func headerValuesMatchExactlyOrByPrefix() throws {
        let grpcOnly = policy(
            [try httpRule(.allow, headers: ["content-type": .prefix("application/grpc")])], default: .deny)
        for (contentType, allowed) in [
            ("application/grpc", true), ("application/grpc+proto", true), ("text/plain", false),
            ("Application/grpc", false),
        ] {
            let request = Request("POST", "/x", headers: ["content-type": contentType])
            #expect(
                (PolicyEvaluator.decide(grpcOnly, for: facts, request: request, names: names).action == .allow)
                    == allowed,
                "\(contentType)")
        }
        // A deny compares without regard to case: `Application/GRPC` is no way around it.
        let noGRPC = policy([try httpRule(.deny, headers: ["content-type": .prefix("application/grpc")])])
        let shouted = Request("POST", "/x", headers: ["content-type": "Application/GRPC+proto"])
        #expect(PolicyEvaluator.decide(noGRPC, for: facts, request: shouted, names: names).action == .deny)
        let exact = policy([try httpRule(.allow, headers: ["x-team": .exact("blue")])], default: .deny)
        #expect(
            PolicyEvaluator.decide(exact, for: facts, request: Request(headers: ["x-team": "blue"]), names: names)
                .action == .allow)
        #expect(
            PolicyEvaluator.decide(exact, for: facts, request: Request(headers: ["x-team": "blue2"]), names: names)
                .action == .deny)
    }

    func policy(_ rules: [PolicyRule], default action: PolicyAction = .allow) -> DirectionPolicy {
        var policy = DirectionPolicy()
        policy.rules = rules
        policy.defaultAction = action
        return policy
    }

    @Test func everyConditionMustHold() throws {
        let rules = policy([
            try httpRule(
                .deny, host: "*.internal", methods: ["DELETE", "PUT"], pathPrefix: "/admin",
                headers: ["x-team": .exact("red")])
        ])
        let denied = Request("DELETE", "/admin/x", headers: ["x-team": "red"])
        #expect(PolicyEvaluator.decide(rules, for: facts, request: denied, names: names).action == .deny)
        for allowed in [
            Request("GET", "/admin/x", headers: ["x-team": "red"]),
            Request("DELETE", "/public", headers: ["x-team": "red"]),
            Request("DELETE", "/admin/x", headers: ["x-team": "blue"]),
            Request("DELETE", "/admin/x", host: "api.example", headers: ["x-team": "red"]),
        ] {
            #expect(PolicyEvaluator.decide(rules, for: facts, request: allowed, names: names).action == .allow)
        }
    }

    /// A request naming no host fails closed: deny rules on a host match it, allow rules do not.
    @Test func aMissingHostFailsClosed() throws {
        let noHost = Request("GET", "/", host: nil)
        let deny = policy([try httpRule(.deny, host: "api.internal")])
        #expect(PolicyEvaluator.decide(deny, for: facts, request: noHost, names: names).action == .deny)
        let allow = policy([try httpRule(.allow, host: "api.internal")], default: .deny)
        #expect(PolicyEvaluator.decide(allow, for: facts, request: noHost, names: names).action == .deny)
    }

    /// An allow by host admits a request only to an address the host resolved to; a deny by host denies on the
    /// claim alone, wherever it is sent.
    @Test func anAllowByHostIsAboutTheHostsAddresses() throws {
        let allow = policy([try httpRule(.allow, host: "api.internal")], default: .deny)
        let elsewhere = ConnectionFacts(
            direction: .outbound, destinationAddress: [192, 0, 2, 99], destinationPort: 80,
            sourceAddress: [10, 0, 0, 2])
        #expect(PolicyEvaluator.decide(allow, for: facts, request: Request(), names: names).action == .allow)
        #expect(PolicyEvaluator.decide(allow, for: elsewhere, request: Request(), names: names).action == .deny)
        #expect(PolicyEvaluator.decide(allow, for: facts, request: Request(), names: NameAddresses()).action == .deny)
        var expired = names
        expired.asOf = expired.asOf + .seconds(61)
        #expect(PolicyEvaluator.decide(allow, for: facts, request: Request(), names: expired).action == .deny)
        let deny = policy([try httpRule(.deny, host: "api.internal")])
        #expect(
            PolicyEvaluator.decide(deny, for: elsewhere, request: Request(), names: NameAddresses()).action == .deny)
    }

    /// Per request, the first rule that matches wins, L4 rules included, SNI rules never (the request is not TLS).
    @Test func firstMatchPerRequest() throws {
        var sni = PolicyRule(action: .allow)
        sni.sni = [try HostPattern(parsing: "api.internal")]
        var port80 = PolicyRule(action: .deny)
        port80.ports = [PortRange(80)]
        let rules = policy([sni, try httpRule(.allow, pathPrefix: "/public"), port80])
        #expect(
            PolicyEvaluator.decide(rules, for: facts, request: Request("GET", "/public/a"), names: names)
                == PolicyDecision(action: .allow, ruleIndex: 1, ruleName: "rules[1]"))
        #expect(
            PolicyEvaluator.decide(rules, for: facts, request: Request("GET", "/private"), names: names)
                == PolicyDecision(action: .deny, ruleIndex: 2, ruleName: "rules[2]"))
    }

    /// An HTTP rule in reach makes an HTTP/1 connection per-request; one that cannot be parsed request by request
    /// fails closed on deny rules; other protocols pass HTTP rules by.
    @Test func verdicts() throws {
        let denyAdmin = policy([try httpRule(.deny, pathPrefix: "/admin")])
        #expect(
            PolicyEvaluator.verdict(denyAdmin, for: facts, detected: .http1, proxiesHTTP: true, names: names)
                == .perRequest)
        #expect(
            PolicyEvaluator.verdict(denyAdmin, for: facts, detected: .http2, proxiesHTTP: false, names: names)
                == .decided(PolicyDecision(action: .deny, ruleIndex: 0, ruleName: "rules[0]")))
        #expect(
            PolicyEvaluator.verdict(denyAdmin, for: facts, detected: .opaque, proxiesHTTP: false, names: names)
                == .decided(PolicyDecision(action: .allow, ruleIndex: nil, ruleName: "default")))
        let allowPublic = policy([try httpRule(.allow, pathPrefix: "/public")], default: .deny)
        #expect(
            PolicyEvaluator.verdict(allowPublic, for: facts, detected: .http2, proxiesHTTP: false, names: names)
                == .decided(PolicyDecision(action: .deny, ruleIndex: nil, ruleName: "default")))
        let elsewhere = policy([try httpRule(.deny, pathPrefix: "/admin", ports: "8080")])
        #expect(
            PolicyEvaluator.verdict(elsewhere, for: facts, detected: .http1, proxiesHTTP: true, names: names)
                == .decided(PolicyDecision(action: .allow, ruleIndex: nil, ruleName: "default")))
        #expect(PolicyEvaluator.needsDetection(denyAdmin, for: facts))
        #expect(!PolicyEvaluator.needsDetection(elsewhere, for: facts))
    }

    @Test func httpRulesLoad() throws {
        let configuration = try ConfigurationLoader.load(
            yaml: """
                policy:
                  outbound:
                    rules:
                      - action: deny
                        name: admin
                        http:
                          host: "*.internal"
                          methods: [DELETE]
                          pathPrefix: /admin
                          headers: { X-Team: red, Content-Type: { prefix: application/grpc } }
                """
        ).get()
        let match = try #require(configuration.outboundPolicy.rules.first?.http)
        #expect(match.host?.description == "*.internal")
        #expect(match.methods == ["DELETE"] && match.pathPrefix == "/admin")
        #expect(match.headers == ["x-team": .exact("red"), "content-type": .prefix("application/grpc")])
        let wrong = ConfigurationLoader.load(
            yaml: "policy: { outbound: { rules: [ { action: deny, http: { headers: { a: { start: x } } } } ] } }")
        guard case .failure(let error) = wrong else {
            Issue.record("a header condition with an unknown key loaded")
            return
        }
        #expect("\(error)".contains("policy.outbound.rules[0].http.headers.a"), "\(error)")
    }
}
