import Foundation
import Interception
import Testing

@Suite struct InterceptionPlannerTests {
    static func config(_ change: (inout InterceptionConfig) throws -> Void) rethrows -> InterceptionConfig {
        var config = InterceptionConfig()
        try change(&config)
        return config
    }

    /// One configuration case per golden file: the exact text `nft -f` is fed. A change to a golden file is a change
    /// to what pods run.
    static let goldenCases: [(String, InterceptionConfig)] = try! [
        ("default", InterceptionConfig()),
        ("exclude-inbound-ports", config { $0.excludedInboundPorts = try CaptureListParser.ports("22,9000-9100") }),
        (
            "exclude-outbound-ports",
            config { $0.excludedOutboundPorts = try CaptureListParser.ports("7002,3306,8000-8999") }
        ),
        (
            "exclude-outbound-cidrs",
            config {
                $0.excludedOutboundCIDRs = try CaptureListParser.networks("10.0.0.0/8,169.254.169.254,fd00::/8")
            }
        ),
        (
            "include-outbound-cidrs",
            config { $0.includedOutboundCIDRs = try CaptureListParser.networks("10.96.0.0/12") }
        ),
        ("exclude-interfaces", config { $0.excludedInterfaces = ["eth1", "wg0"] }),
        ("redirect-dns", config { $0.redirectDNS = true }),
        ("ipv4-only", config { $0.ipv4Only = true }),
        (
            "uid-gid-lists",
            config {
                $0.proxyUIDs = [1337, 1500]
                $0.proxyGIDs = [1337, 2000]
            }
        ),
        ("inbound-ports", config { $0.inboundPorts = try CaptureListParser.ports("80,8080,9000-9100") }),
    ]

    @Test(arguments: goldenCases.map(\.0))
    func planMatchesGoldenFile(name: String) throws {
        let config = try #require(Self.goldenCases.first { $0.0 == name }?.1)
        #expect(config.validationErrors().isEmpty)
        let golden = try String(contentsOf: Self.goldenFile("\(name).nft"), encoding: .utf8)
        #expect(NftTextRenderer.render(InterceptionPlanner.ruleset(for: config)) == golden)
    }

    /// The proxy's own sockets are exempt before the app's traffic is redirected anywhere (only its self-calls to the
    /// pod go to the inbound path first).
    @Test func proxyOwnSocketsAreExemptBeforeTheAppsTrafficIsRedirected() {
        let ruleset = InterceptionPlanner.ruleset(
            for: Self.config {
                $0.proxyUIDs = [1337, 1500]
                $0.redirectDNS = true
            })
        let output = ruleset.chains.first { $0.name == "output" }!
        let appRedirects = output.rules.indices.filter {
            [.redirect(port: 15001), .redirect(port: 15053)].contains(output.rules[$0].action)
        }
        let exemptions = output.rules.indices.filter {
            [.socketUID(1337), .socketUID(1500), .socketGID(1337)].contains(output.rules[$0].matches.first)
        }
        #expect(exemptions.count == 3)
        #expect(appRedirects.count == 3)
        #expect(exemptions.allSatisfy { exemption in appRedirects.allSatisfy { exemption < $0 } })
        // Only the uid the proxy runs as (the first) has its self-calls sent to the inbound path.
        let selfCalls = output.rules.filter { $0.action == .redirect(port: 15006) }
        #expect(selfCalls.count == 1)
        #expect(selfCalls.first?.matches.contains(.socketUID(1337)) == true)
    }

    /// The proxy's own ports are always excluded inbound, merged with the operator's into one set.
    @Test func inboundExclusionsAlwaysHoldTheProxyPorts() throws {
        let config = try Self.config { $0.excludedInboundPorts = try CaptureListParser.ports("15020,22") }
        let prerouting = InterceptionPlanner.ruleset(for: config).chains.first { $0.name == "prerouting" }!
        #expect(
            prerouting.rules.first?.matches == [
                .destinationPort(.tcp, [PortRange(22), PortRange(15000), PortRange(15020)])
            ])
    }

    @Test func includedCIDRsOfOneFamilyLeaveTheOtherUncaptured() throws {
        let config = try Self.config { $0.includedOutboundCIDRs = try CaptureListParser.networks("fd00::/8") }
        let output = InterceptionPlanner.ruleset(for: config).chains.first { $0.name == "output" }!
        #expect(output.rules.contains { $0.matches == [.family(.ipv4)] && $0.action == .returnFromChain })
        #expect(
            output.rules.contains {
                $0.matches == [.destinationAddress([try! IPNetwork(parsing: "fd00::/8")], negated: true)]
            })
    }

    @Test(arguments: [
        (config { $0.table = "9lives" }, "table '9lives'"),
        (config { $0.table = "a b" }, "table 'a b'"),
        (config { $0.proxyUIDs = [] }, "proxy uid"),
        (config { $0.outboundRedirectPort = 0 }, "outbound port 0"),
        (config { $0.outboundRedirectPort = 15006 }, "outbound port and inbound port are both 15006"),
        (
            config { $0.excludedInboundPorts = [PortRange(low: 15000, high: 15010)] },
            "15000-15010 contains the inbound port 15006"
        ),
        (config { $0.excludedOutboundPorts = [PortRange(15001)] }, "15001 contains the outbound port 15001"),
        (config { $0.inboundPorts = [] }, "inbound ports: list at least one"),
        (config { $0.includedOutboundCIDRs = [] }, "included outbound CIDRs: list at least one"),
        (config { $0.excludedInterfaces = ["a-very-long-interface"] }, "excluded interface 'a-very-long-interface'"),
        (config { $0.excludedInterfaces = ["eth\"0"] }, "excluded interface 'eth\"0'"),
        (config { $0.excludedInterfaces = ["eth*"] }, "excluded interface 'eth*'"),
        (config { $0.outboundRedirectPort = 15000 }, "outbound port 15000: the proxy serves something else there"),
        (
            config {
                $0.inboundPorts = [PortRange(8080)]
                $0.excludedInboundPorts = [PortRange(low: 8000, high: 8100)]
            }, "inbound ports: 8080 is both captured and excluded (8000-8100)"
        ),
        (
            config {
                $0.redirectDNS = true
                $0.excludedOutboundPorts = [PortRange(53)]
            }, "excluded outbound ports: 53 contains 53, which --redirect-dns captures"
        ),
        (
            config { $0.excludedOutboundCIDRs = [IPNetwork(family: .ipv4, address: [0, 0, 0, 0], prefixLength: 0)] },
            "CIDR 0.0.0.0/0"
        ),
        (
            config {
                $0.ipv4Only = true
                $0.excludedOutboundCIDRs = [.ipv6Loopback]
            }, "CIDR ::1: an IPv6 network, but capture is IPv4 only"
        ),
    ])
    func invalidSettingsAreNamed(config: InterceptionConfig, message: String) {
        let errors = config.validationErrors()
        #expect(errors.count == 1)
        #expect(errors.first?.contains(message) == true, "\(errors)")
    }

    @Test func defaultSettingsAreValid() {
        #expect(InterceptionConfig().validationErrors().isEmpty)
    }

    static func goldenFile(_ name: String) -> URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Golden/\(name)")
    }
}
