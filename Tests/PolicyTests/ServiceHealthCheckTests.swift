import Policy
import TestSupport
import Testing

/// Active health checks of a service's endpoints: the configuration, the thresholds an endpoint's results cross,
/// and what the balancer does with endpoints out of rotation.
@Suite struct ServiceHealthCheckTests {
    static let thresholds: ServiceHealthCheck = {
        var check = ServiceHealthCheck(check: .tcp)
        check.unhealthyThreshold = 3
        check.healthyThreshold = 2
        return check
    }()

    @Test func theFirstResultCountsAtOnceThenTheThresholdsApply() {
        var health = EndpointHealth()
        func record(_ passed: Bool, _ result: String) -> Bool {
            health.record(passed: passed, result: result, thresholds: Self.thresholds)
        }
        #expect(health.status == .unknown && health.inRotation)
        #expect(record(true, "HTTP 200"))
        #expect(health.status == .healthy)
        #expect(!record(false, "HTTP 503"))
        #expect(!record(false, "HTTP 503"))
        #expect(health.inRotation, "two failures of three")
        #expect(record(false, "HTTP 503"))
        #expect(health.status == .unhealthy && !health.inRotation && health.lastResult == "HTTP 503")
        #expect(!record(true, "HTTP 200"))
        #expect(!record(false, "refused"), "a failure restarts")
        #expect(!record(true, "HTTP 200"))
        #expect(record(true, "HTTP 200"))
        #expect(health.status == .healthy)
    }

    @Test func anEndpointDownAtStartLeavesAfterOneCheck() {
        var health = EndpointHealth()
        let changed = health.record(passed: false, result: "connection refused", thresholds: Self.thresholds)
        #expect(changed)
        #expect(!health.inRotation)
    }

    @Test func endpointsOutOfRotationAreSkippedUnlessAllAreOut() {
        var random = SeededRandomNumbers(seed: 7)
        var balancer = EndpointBalancer<String>(balancer: .roundRobin, outlierDetection: nil)
        balancer.update(["a", "b", "c"])
        balancer.setInRotation("b", false)
        let now = ContinuousClock.now
        let inRotation = (0..<4).compactMap { _ in balancer.pick(now: now, using: &random) }
        #expect(inRotation == ["a", "c", "a", "c"])
        balancer.setInRotation("a", false)
        balancer.setInRotation("c", false)
        let allOut = (0..<3).compactMap { _ in balancer.pick(now: now, using: &random) }
        #expect(Set(allOut) == ["a", "b", "c"], "when every endpoint is out, traffic goes to all")
        balancer.setInRotation("b", true)
        let back = balancer.pick(now: now, using: &random)
        #expect(back == "b")
    }

    @Test func outlierDetectionDoesNotEjectTheLastEndpointInRotation() {
        var detection = ServiceDefinition.OutlierDetection()
        detection.consecutiveFailures = 1
        var balancer = EndpointBalancer<String>(balancer: .roundRobin, outlierDetection: detection)
        balancer.update(["a", "b"])
        balancer.setInRotation("b", false)
        let now = ContinuousClock.now
        balancer.failed("a", now: now)
        #expect(!balancer.isEjected("a", now: now))
    }

    @Test func theConfigurationReadsEveryCheckWithItsDefaults() throws {
        let yaml = """
            services:
              - name: web
                address: 10.96.0.10:80
                endpoints: [10.0.0.1:8080]
                healthCheck:
                  http: { path: /healthz, expectedStatuses: [200, 204-206] }
                  interval: 2s
                  timeout: 500ms
                  unhealthyThreshold: 4
                  healthyThreshold: 1
              - name: db
                address: 10.96.0.11:5432
                endpoints: [10.0.0.2:5432]
                healthCheck: { tcp: {} }
              - name: orders
                address: 10.96.0.12:9090
                endpoints: [10.0.0.3:9090]
                healthCheck: { grpc: { service: orders } }
            """
        let services = try ConfigurationLoader.load(yaml: yaml).get().services
        var web = ServiceHealthCheck(
            check: .http(HTTPHealthCheck(path: "/healthz", expectedStatuses: [200...200, 204...206])))
        web.interval = .seconds(2)
        web.timeout = .milliseconds(500)
        web.unhealthyThreshold = 4
        web.healthyThreshold = 1
        #expect(services[0].healthCheck == web)
        #expect(services[1].healthCheck == ServiceHealthCheck(check: .tcp))
        #expect(services[2].healthCheck == ServiceHealthCheck(check: .grpc(service: "orders")))
        #expect(services[1].healthCheck?.interval == .seconds(10))
    }

    @Test(arguments: [
        ("{ http: {}, tcp: {} }", "needs exactly one of http, tcp, grpc (found 2)"),
        ("{ interval: 5s }", "needs exactly one of http, tcp, grpc (found 0)"),
        ("{ tcp: {}, interval: 1s, timeout: 2s }", "timeout: must be shorter than the interval"),
        ("{ http: { path: healthz } }", "'healthz' does not start with /"),
        ("{ http: { expectedStatuses: [700] } }", "'700' is not a status"),
        ("{ http: { expectedStatuses: [200-] } }", "'200-' is not a status"),
        ("{ http: { expectedStatuses: [] } }", "an empty list"),
        ("{ http: { path: \"/a b\" } }", "holds a space or a control character"),
        ("{ tcp: {}, unhealthyThreshold: 0 }", "unhealthyThreshold"),
        ("{ tcp: { port: 1 } }", "healthCheck.tcp.port: unknown key"),
        ("{ grpc: {}, interval: 2h }", "'2h' is not between 1s and 1h"),
    ])
    func badHealthChecksAreRefusedWithTheirPath(check: String, problem: String) {
        let yaml = """
            services:
              - { name: web, address: 10.96.0.10:80, endpoints: [10.0.0.1:8080], healthCheck: \(check) }
            """
        guard case .failure(let error) = ConfigurationLoader.load(yaml: yaml) else {
            Issue.record("accepted: \(check)")
            return
        }
        #expect("\(error)".contains(problem), "\(error)")
        #expect("\(error)".contains("services[0].healthCheck"), "\(error)")
    }

    @Test func aMeshedServiceCannotBeCheckedInPlaintext() {
        // Meshed without saying so: every endpoint lies in the mesh's CIDRs.
        let yaml = """
            identity: { certificate: /id/tls.crt, privateKey: /id/tls.key, trustBundle: /id/ca.crt }
            mtls: { meshCidrs: [10.0.0.0/8] }
            services:
              - { name: web, address: 10.96.0.10:80, endpoints: [10.0.0.1:8080], healthCheck: { tcp: {} } }
            """
        guard case .failure(let error) = ConfigurationLoader.load(yaml: yaml) else {
            Issue.record("accepted")
            return
        }
        #expect("\(error)".contains("health checks are plaintext"), "\(error)")
    }
}
