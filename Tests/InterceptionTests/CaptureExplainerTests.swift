import Interception
import Testing

/// Which rule of the plan a new connection meets, outbound or into the pod, for `sidecar-status explain`.
@Suite struct CaptureExplainerTests {
    func explain(
        _ config: InterceptionConfig = InterceptionConfig(), to destination: String, port: UInt16, uid: UInt32 = 1000,
        interface: String = "eth0"
    ) throws -> CaptureExplainer.Verdict {
        CaptureExplainer.explain(
            InterceptionPlanner.ruleset(for: config),
            CaptureExplainer.Connection(
                destination: try IPNetwork(parsing: destination), port: port, uid: uid, gid: uid,
                outputInterface: interface))
    }

    @Test func theAppsConnectionsAreRedirected() throws {
        let verdict = try explain(to: "10.1.2.3", port: 443)
        #expect(verdict.isCaptured && verdict.redirectPort == 15001)
        #expect(verdict.rule == "sidecar: redirect outbound tcp")
        #expect(try explain(to: "fd00::5", port: 443).isCaptured)
    }

    @Test func theProxysOwnConnectionsPass() throws {
        let verdict = try explain(to: "10.1.2.3", port: 443, uid: 1337)
        #expect(!verdict.isCaptured)
        #expect(verdict.rule == "sidecar: proxy uid")
    }

    @Test func loopbackAndExclusionsPass() throws {
        #expect(try explain(to: "127.0.0.1", port: 8080, interface: "lo").rule == "sidecar: loopback destination")
        var config = InterceptionConfig()
        config.excludedOutboundPorts = [PortRange(5432)]
        config.excludedOutboundCIDRs = [try IPNetwork(parsing: "169.254.169.254/32")]
        config.ipv4Only = true
        #expect(try explain(config, to: "10.1.2.3", port: 5432).rule == "sidecar: exclude outbound port")
        #expect(try explain(config, to: "169.254.169.254", port: 80).rule == "sidecar: exclude outbound cidr")
        #expect(try explain(config, to: "fd00::5", port: 443).rule == "sidecar: ipv4 only")
        #expect(try explain(config, to: "10.1.2.3", port: 5433).isCaptured)
    }

    /// With an include list, a destination outside it passes by the rule for its family.
    @Test func includedNetworksOnly() throws {
        var config = InterceptionConfig()
        config.includedOutboundCIDRs = [try IPNetwork(parsing: "10.0.0.0/8")]
        #expect(try explain(config, to: "10.9.9.9", port: 80).isCaptured)
        let outside = try explain(config, to: "192.0.2.1", port: 80)
        #expect(!outside.isCaptured)
        #expect(outside.rule == "sidecar: outside included cidrs")
        #expect(try explain(config, to: "fd00::5", port: 80).rule == "sidecar: no included ipv6 cidr")
    }

    /// Into the pod: the prerouting chain decides, by port and by the interface the connection arrives by.
    @Test func inboundConnectionsMeetThePreroutingChain() throws {
        func inbound(_ config: InterceptionConfig = InterceptionConfig(), port: UInt16, by interface: String = "eth0")
            throws -> CaptureExplainer.Verdict
        {
            CaptureExplainer.explain(
                InterceptionPlanner.ruleset(for: config),
                CaptureExplainer.Connection(
                    inboundTo: try IPNetwork(parsing: "10.244.1.5"), port: port,
                    from: try IPNetwork(parsing: "10.244.2.7"), inputInterface: interface))
        }
        let captured = try inbound(port: 8080)
        #expect(captured.redirectPort == 15006 && captured.rule == "sidecar: redirect inbound tcp")
        var config = InterceptionConfig()
        config.excludedInboundPorts = [PortRange(9090)]
        config.excludedInterfaces = ["wg0"]
        #expect(try inbound(config, port: 9090).rule == "sidecar: exclude inbound port")
        #expect(try inbound(config, port: 15020).rule == "sidecar: exclude inbound port")
        #expect(try inbound(config, port: 8080, by: "wg0").rule == "sidecar: exclude interface")
        #expect(try inbound(config, port: 8080).isCaptured)
    }
}
