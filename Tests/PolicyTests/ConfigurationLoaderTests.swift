import Interception
import Policy
import Testing

@Suite struct ConfigurationLoaderTests {
    func problems(_ yaml: String) -> [String] {
        guard case .failure(let error) = ConfigurationLoader.load(yaml: yaml) else { return [] }
        return error.problems
    }

    @Test func anEmptyFileIsTheDefaults() throws {
        #expect(try ConfigurationLoader.load(yaml: "").get() == ProxyConfiguration())
        #expect(
            problems("limits: [ { name: a, maxConnections: 1 }, { name: a, maxConnections: 2 } ]")
                == ["limits[1].name: 'a' names another entry too"])
        #expect(try ConfigurationLoader.load(yaml: "# nothing\n").get() == ProxyConfiguration())
    }

    @Test func servicesLoadWithTheirDefaults() throws {
        let services = try ConfigurationLoader.load(
            yaml: """
                services:
                  - name: orders
                    address: 10.96.0.10:80
                    endpoints: [10.1.0.5:8080, "[fd00::6]:8080", Orders.Internal:8080]
                    balancer: p2c_ewma
                    outlierDetection: { consecutiveFailures: 3, ejectionTime: 10s }
                    retries: 2
                  - { name: plain, address: "[fd00:96::1]:443", endpoints: [10.1.0.7:443] }
                """
        ).get().services
        #expect(services.map(\.name) == ["orders", "plain"])
        #expect(
            services[0].endpoints.map(\.description) == ["10.1.0.5:8080", "[fd00::6]:8080", "orders.internal:8080"])
        #expect(services[0].balancer == .peakEWMA && services[0].retries == 2)
        #expect(services[0].outlierDetection?.consecutiveFailures == 3)
        #expect(services[0].outlierDetection?.ejectionTime == .seconds(10))
        #expect(services[0].isAddressed(by: [10, 96, 0, 10], port: 80))
        #expect(!services[0].isAddressed(by: [10, 96, 0, 10], port: 81))
        #expect(services[1].balancer == .roundRobin && services[1].retries == 1)
        #expect(services[1].outlierDetection == ServiceDefinition.OutlierDetection())
        #expect(services[1].port == 443 && services[1].address.family == .ipv6)
    }

    @Test func limitsLoadInOrder() throws {
        let limits = try ConfigurationLoader.load(
            yaml: """
                limits:
                  - { name: db, cidrs: [10.0.0.0/8], ports: [5432], maxConnections: 20 }
                  - { direction: inbound, maxConnections: 1000 }
                  - { ports: [8080], requestsPerSecond: 100, burst: 200, maxRequests: 50, maxPendingRequests: 10 }
                  - { requestsPerSecond: 2.5 }
                """
        ).get().limits
        #expect(limits.map(\.name) == ["db", "limits[1]", "limits[2]", "limits[3]"])
        #expect(limits[0].maxConnections == 20 && limits[0].ports == [PortRange(5432)])
        #expect(limits[1].direction == .inbound)
        #expect(limits[2].rate == RequestRate(perSecond: 100, burst: 200) && limits[2].maxRequests == 50)
        #expect(limits[2].maxPendingRequests == 10 && limits[2].maxConnections == nil && limits[2].limitsRequests)
        #expect(limits[3].rate == RequestRate(perSecond: 2.5, burst: 3), "the burst defaults to a second's worth")
        #expect(!limits[0].limitsRequests)
        let toDatabase = ConnectionFacts(
            direction: .outbound, destinationAddress: [10, 1, 2, 3], destinationPort: 5432, sourceAddress: [])
        #expect(limits[0].matches(toDatabase))
        #expect(!limits[1].matches(toDatabase))
        var elsewhere = toDatabase
        elsewhere.destinationPort = 5433
        #expect(!limits[0].matches(elsewhere))
    }

    @Test func aRequestTimeoutIsOptIn() throws {
        #expect(try ConfigurationLoader.load(yaml: "timeouts: { request: 30s }").get().timeouts.request == .seconds(30))
        #expect(try ConfigurationLoader.load(yaml: "").get().timeouts.request == nil)
    }

    @Test func theDesignExampleLoads() throws {
        let configuration = try ConfigurationLoader.load(
            yaml: """
                listeners: { outbound: 16001, inbound: 16006, admin: 16000, telemetry: 16020 }
                timeouts: { connect: 2s, idle: 5m, detect: 100ms, drain: 1h }
                policy:
                  outbound:
                    default: deny
                    rules:
                      - { action: allow, name: cluster, cidrs: [10.0.0.0/8, "fd00::/8"], ports: [443, 8000-8999] }
                  inbound:
                    rules:
                      - { action: deny, sourceCidrs: [192.0.2.0/24] }
                """
        ).get()
        #expect(configuration.listeners.outbound == 16001 && configuration.listeners.telemetry == 16020)
        #expect(configuration.timeouts.idle == .seconds(300) && configuration.timeouts.detect == .milliseconds(100))
        #expect(configuration.timeouts.request == nil, "no request timeout unless asked for")
        #expect(configuration.outboundPolicy.defaultAction == .deny)
        let rule = try #require(configuration.outboundPolicy.rules.first)
        #expect(rule.name == "cluster" && rule.action == .allow)
        #expect(rule.cidrs.map(\.description) == ["10.0.0.0/8", "fd00::/8"])
        #expect(rule.ports == [PortRange(443), PortRange(low: 8000, high: 8999)])
        #expect(configuration.inboundPolicy.defaultAction == .allow)
        #expect(configuration.inboundPolicy.rules.first?.sourceCidrs.map(\.description) == ["192.0.2.0/24"])
    }

    /// Every error, each with its key path, in one run.
    @Test(arguments: [
        (
            "policy:\n  outbound:\n    rules:\n      - { action: deny, cidrs: [10.0.0.0/8, 10.1.2.3/8] }\n",
            "policy.outbound.rules[0].cidrs[1]: '10.1.2.3/8' has host bits set; did you mean 10.0.0.0/8?"
        ),
        (
            "policy: { outbound: { rules: [ { action: deny, ports: [70000] } ] } }",
            "policy.outbound.rules[0].ports[0]: '70000': ports are whole numbers 1-65535"
        ),
        ("policy: { inbound: { default: maybe } }", "policy.inbound.default: 'maybe' is not allow or deny"),
        ("timeouts: { connect: 10 }", "timeouts.connect: '10' is not a duration"),
        ("timeouts: { drain: 0s }", "timeouts.drain: must be longer than zero"),
        ("timeouts: { request: 0s }", "timeouts.request: must be longer than zero"),
        ("listeners: { admin: 15020 }", "listeners: every listener needs a port of its own"),
        (
            "tracing: {}",
            "tracing: unknown key (expected one of: listeners, timeouts, policy, limits, services, dns, identity, mtls, ids)"
        ),
        ("dns: { allow: [a.example] }", "dns.allow: unknown key (expected one of: deny)"),
        ("dns: { deny: [\"*evil\"] }", "dns.deny[0]: '*evil' is not a host name or a '*.' wildcard"),
        ("services: [ { name: a, endpoints: [10.0.0.1:80] } ]", "services[0]: a service needs address"),
        (
            "services: [ { name: a, address: 10.96.0.0/16, endpoints: [10.0.0.1:80] } ]",
            "services[0].address: '10.96.0.0/16' is not IP:PORT (a service's address is the one the app dials)"
        ),
        (
            "services: [ { name: a, address: 10.96.0.1:80, endpoints: [10.0.0.1] } ]",
            "services[0].endpoints[0]: '10.0.0.1' is not ADDRESS:PORT or NAME:PORT"
        ),
        (
            "services: [ { name: a, address: 10.96.0.1:80, endpoints: [\"bad_name:80\"] } ]",
            "services[0].endpoints[0]: 'bad_name' is not an IP address or a DNS name"
        ),
        (
            "services: [ { name: a, address: 10.96.0.1:80, endpoints: [10.0.0.1:80], balancer: random } ]",
            "services[0].balancer: 'random' is not one of round_robin, least_request, p2c_ewma"
        ),
        (
            "services: [ { name: a, address: 10.96.0.1:80, endpoints: [10.0.0.1:80], retries: 11 } ]",
            "services[0].retries: '11' is not a whole number from 0 to 10"
        ),
        (
            "services: [ { name: a, address: 10.96.0.1:80, endpoints: [10.0.0.1:80], outlierDetection: { ejectionTime: 1ms } } ]",
            "services[0].outlierDetection.ejectionTime: '1ms' is not between 100ms and 1h"
        ),
        (
            "services: [ { name: a, address: 10.96.0.1:80, endpoints: [1.1.1.1:1] }, { name: b, address: 10.96.0.1:80, endpoints: [1.1.1.1:1] } ]",
            "services[1].address: 10.96.0.1:80 is already the address of service a"
        ),
        (
            "limits: [ { ports: [80] } ]",
            "limits[0]: a limit needs one of maxConnections, requestsPerSecond, maxRequests, maxPendingRequests"
        ),
        ("limits: [ { maxConnections: 0 } ]", "limits[0].maxConnections: '0' is not a whole number above zero"),
        ("limits: [ { maxRequests: -1 } ]", "limits[0].maxRequests: '-1' is not a whole number above zero"),
        (
            "limits: [ { requestsPerSecond: 0 } ]",
            "limits[0].requestsPerSecond: '0' is not a rate between 0.001 and 1000000"
        ),
        (
            "limits: [ { requestsPerSecond: nan } ]",
            "limits[0].requestsPerSecond: 'nan' is not a rate between 0.001 and 1000000"
        ),
        ("limits: [ { maxConnections: 5, burst: 10 } ]", "limits[0].burst: burst needs requestsPerSecond"),
        ("limits: [ { requestsPerSecond: 5, burst: 0.5 } ]", "limits[0].burst: '0.5' is not a whole number above zero"),
        ("limits: [ { maxConnections: 5, direction: up } ]", "limits[0].direction: 'up' is not outbound or inbound"),
        (
            "policy: { outbound: { rules: [ { action: deny, color: red } ] } }",
            "policy.outbound.rules[0].color: unknown key"
        ),
        (
            "policy: { outbound: { rules: [ { cidrs: [10.0.0.0/8] } ] } }",
            "policy.outbound.rules[0]: a rule needs an action"
        ),
        (
            "policy: { outbound: { rules: [ { action: deny, sourceCidrs: [10.0.0.0/8] } ] } }",
            "policy.outbound.rules[0].sourceCidrs: only inbound rules can match the peer's address"
        ),
        (
            "policy: { outbound: { rules: [ { action: allow, http: { host: a.b, colour: red } } ] } }",
            "policy.outbound.rules[0].http.colour: unknown key"
        ),
        (
            "policy: { outbound: { rules: [ { action: deny, http: { pathPrefix: /a/../admin } } ] } }",
            "policy.outbound.rules[0].http.pathPrefix: '/a/../admin' is not a normalized path; write '/admin'"
        ),
        (
            "policy: { outbound: { rules: [ { action: deny, http: { pathPrefix: \"/a?b\" } } ] } }",
            "policy.outbound.rules[0].http.pathPrefix: '/a?b' must be a path starting with '/'"
        ),
        (
            "policy: { outbound: { rules: [ { action: deny, http: { headers: { \"x team\": blue } } } ] } }",
            "policy.outbound.rules[0].http.headers: 'x team' is not a header name"
        ),
        (
            "policy: { outbound: { rules: [ { action: deny, sni: [a.test], http: { methods: [GET] } } ] } }",
            "policy.outbound.rules[0]: a rule matches TLS (sni) or HTTP (http), not both"
        ),
        (
            "policy: { outbound: { rules: [ { action: allow, sni: [\"ex*ample.com\"] } ] } }",
            "policy.outbound.rules[0].sni[0]: 'ex*ample.com' is not a host name"
        ),
        (
            "policy: { outbound: { rules: [ { action: deny, http: { pathPrefix: admin } } ] } }",
            "policy.outbound.rules[0].http.pathPrefix: 'admin' must be a path starting with '/'"
        ),
        (
            "policy: { outbound: { rules: [ { action: deny, http: { methods: [get] } } ] } }",
            "policy.outbound.rules[0].http.methods[0]: 'get' is not an HTTP method"
        ),
        ("policy: [1]", "policy: expected a mapping of keys, found a list"),
        ("listeners: { outbound: [1] }", "listeners.outbound: expected a value, found a list"),
        (
            "policy: { outbound: { rules: [ [1] ] } }",
            "policy.outbound.rules[0]: expected a mapping of keys, found a list"
        ),
        ("{ a: [", "not valid YAML"),
        ("listeners: { outbound: 15001-15002 }", "listeners.outbound: '15001-15002': a listener is one port"),
        ("timeouts: { detect: 1h }", "timeouts.detect: must be longer than zero and at most"),
        ("timeouts: { drain: 2562047788015215h }", "timeouts.drain: must be longer than zero and at most"),
        (
            "policy: { outbound: { rules: [ { action: deny, sni: [] } ] } }",
            "policy.outbound.rules[0].sni: an empty list; leave the key out to match anything"
        ),
        ("7", "(top level): expected a mapping of keys, found a value"),
    ])
    func problemsNameTheirKeyPath(yaml: String, expected: String) {
        let found = problems(yaml)
        #expect(found.contains { $0.contains(expected) }, "\(found)")
    }

    @Test func allProblemsAreCollected() {
        let found = problems("timeouts: { connect: x, drain: y }\npolicy: { inbound: { default: z } }\n")
        #expect(found.count == 3)
    }

    /// YAML's guesses never apply: 0755 is a port written with a zero, not octal.
    @Test func valuesAreReadAsWritten() throws {
        let configuration = try ConfigurationLoader.load(
            yaml: "policy: { outbound: { rules: [ { action: deny, ports: [0755] } ] } }"
        ).get()
        #expect(configuration.outboundPolicy.rules.first?.ports == [PortRange(755)])
    }

    @Test func anIdentityIsADirectoryInALayoutOrThreePaths() throws {
        let csi = try ConfigurationLoader.load(
            yaml: "identity: { directory: /var/run/secrets/spiffe/, layout: csi-spiffe }"
        ).get()
        #expect(
            csi.identity
                == IdentitySource(
                    certificate: "/var/run/secrets/spiffe/tls.crt", privateKey: "/var/run/secrets/spiffe/tls.key",
                    trustBundle: "/var/run/secrets/spiffe/ca.crt"))
        let helper = try ConfigurationLoader.load(yaml: "identity: { directory: /svid, layout: spiffe-helper }").get()
        #expect(helper.identity?.privateKey == "/svid/svid_key.pem")
        #expect(helper.identity?.trustBundle == "/svid/svid_bundle.pem")
        let paths = try ConfigurationLoader.load(
            yaml: "identity: { certificate: /a/c.pem, privateKey: /a/k.pem, trustBundle: /b/ca.pem }"
        ).get()
        #expect(
            paths.identity == IdentitySource(certificate: "/a/c.pem", privateKey: "/a/k.pem", trustBundle: "/b/ca.pem"))
        #expect(ProxyConfiguration().identity == nil)
    }

    @Test(arguments: [
        ("identity: { directory: /s }", "identity.layout: missing"),
        (
            "identity: { directory: /s, layout: spire }",
            "identity.layout: 'spire' (expected one of: csi-spiffe, spiffe-helper)"
        ),
        ("identity: { directory: s, layout: csi-spiffe }", "identity.directory: 's': an absolute path"),
        (
            "identity: { directory: /s, layout: csi-spiffe, certificate: /c }",
            "identity.certificate: either a directory"
        ),
        ("identity: { certificate: /c, privateKey: /k }", "identity.trustBundle: missing"),
        (
            "identity: { certificate: /c, privateKey: /k, trustBundle: /b, layout: csi-spiffe }",
            "identity.layout: only with identity.directory"
        ),
        ("identity: { file: /c }", "identity.file: unknown key"),
    ])
    func identityProblems(yaml: String, expected: String) {
        let found = problems(yaml)
        #expect(found.contains { $0.contains(expected) }, "\(found)")
    }

    @Test func mutualTLSSettingsAndIdentityRules() throws {
        let configuration = try ConfigurationLoader.load(
            yaml: """
                identity: { directory: /svid, layout: csi-spiffe }
                mtls:
                  mode: strict
                  ports: { 5432: disable, 8443: permissive }
                  meshCidrs: [10.244.0.0/16]
                  probes: [ { port: 8080, path: /healthz } ]
                  forwardClientCert: true
                  shareConnections: true
                services:
                  - { name: pay, address: 10.96.0.20:80, endpoints: [pay.shop:80], mtls: true, identities: ["*/sa/pay"] }
                policy:
                  inbound:
                    rules:
                      - action: allow
                        from: { principals: ["spiffe://cluster.local/ns/shop/sa/frontend"], namespaces: [shop] }
                """
        ).get()
        #expect(configuration.mtls.mode == .strict)
        #expect(configuration.mtls.ports == [5432: .disable, 8443: .permissive])
        #expect(configuration.meshMode(forInboundPort: 5432) == .disable)
        #expect(configuration.meshMode(forInboundPort: 80) == .strict)
        #expect(configuration.mtls.meshCidrs == [try IPNetwork(parsing: "10.244.0.0/16")])
        #expect(configuration.mtls.probes == [MeshProbe(port: 8080, path: "/healthz")])
        #expect(configuration.mtls.forwardClientCert)
        #expect(configuration.mtls.shareConnections && !MeshTLS().shareConnections)
        #expect(configuration.services.first?.mtls == true)
        #expect(configuration.services.first?.identities.map(\.description) == ["*/sa/pay"])
        let from = try #require(configuration.inboundPolicy.rules.first?.from)
        #expect(from.principals.map(\.description) == ["spiffe://cluster.local/ns/shop/sa/frontend"])
        #expect(from.namespaces == ["shop"])
        #expect(ProxyConfiguration().mtls == MeshTLS())
    }

    @Test(arguments: [
        ("mtls: { mode: strict }", "mtls: a strict port needs identity:"),
        ("mtls: { ports: { 80: strict } }", "mtls: a strict port needs identity:"),
        ("mtls: { meshCidrs: [10.0.0.0/8] }", "mtls.meshCidrs: mutual TLS needs identity:"),
        (
            "services: [ { name: a, address: 10.96.0.1:80, endpoints: [10.0.0.1:80], mtls: true } ]",
            "services[0].mtls: mutual TLS needs identity:"
        ),
        ("mtls: { mode: on }", "mtls.mode: 'on' is not one of disable, permissive, strict"),
        ("mtls: { ports: { http: strict } }", "mtls.ports: 'http' is not a port"),
        ("mtls: { forwardClientCert: yes }", "mtls.forwardClientCert: 'yes' is not true or false"),
        ("mtls: { shareConnections: 1 }", "mtls.shareConnections: '1' is not true or false"),
        ("mtls: { probes: [ { port: 8080 } ] }", "mtls.probes[0]: a probe needs path"),
        (
            "mtls: { probes: [ { port: 8080, path: /a/../b } ] }",
            "mtls.probes[0].path: '/a/../b' is not a normalized path"
        ),
        (
            "policy: { outbound: { rules: [ { action: allow, from: { authenticated: true } } ] } }",
            "policy.outbound.rules[0].from: only inbound rules"
        ),
        (
            "policy: { inbound: { rules: [ { action: allow, from: { principals: [frontend] } } ] } }",
            "policy.inbound.rules[0].from.principals[0]: 'frontend' is not a SPIFFE ID"
        ),
        (
            "policy: { inbound: { rules: [ { action: allow, from: {} } ] } }",
            "policy.inbound.rules[0].from: an empty from: would match every caller"
        ),
        (
            "policy: { inbound: { rules: [ { action: deny, from: { authenticated: false, namespaces: [a] } } ] } }",
            "policy.inbound.rules[0].from: authenticated: false matches only callers without an identity"
        ),
        (
            "policy: { inbound: { rules: [ { action: deny, from: { authenticated: yes } } ] } }",
            "policy.inbound.rules[0].from.authenticated: 'yes' is not true or false"
        ),
        (
            "policy: { inbound: { rules: [ { action: deny, from: { trustDomains: [Cluster.Local] } } ] } }",
            "from.trustDomains[0]: 'Cluster.Local' is not a trust domain"
        ),
    ])
    func mutualTLSProblems(yaml: String, expected: String) {
        let found = problems(yaml)
        #expect(found.contains { $0.contains(expected) }, "\(found)")
    }
}
