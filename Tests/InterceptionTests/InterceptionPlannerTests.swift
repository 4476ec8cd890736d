import Foundation
import Interception
import Testing

@Suite struct InterceptionPlannerTests {
    /// The golden files hold the exact text `nft -f` is fed; a change to them is a change to what pods run.
    @Test func defaultPlanMatchesGoldenFile() throws {
        let golden = try String(contentsOf: Self.goldenFile("default.nft"), encoding: .utf8)
        #expect(NftTextRenderer.render(InterceptionPlanner.ruleset(for: InterceptionConfig())) == golden)
    }

    @Test func proxyOwnSocketsAreExemptBeforeAnyRedirect() {
        let config = InterceptionConfig(proxyUIDs: [1337, 1500], proxyGIDs: [1337])
        let output = InterceptionPlanner.ruleset(for: config).chains.first { $0.name == "output" }!
        let redirect = output.rules.firstIndex { $0.action == .redirect(port: 15001) }!
        let exemptions = output.rules.indices.filter {
            [.socketUID(1337), .socketUID(1500), .socketGID(1337)].contains(output.rules[$0].matches.first)
        }
        #expect(exemptions.count == 3)
        #expect(exemptions.allSatisfy { $0 < redirect })
        #expect(redirect == output.rules.count - 1)
    }

    @Test func prerouting() {
        let config = InterceptionConfig(inboundRedirectPort: 16006, excludedInboundPorts: [15020, 22])
        let prerouting = InterceptionPlanner.ruleset(for: config).chains.first { $0.name == "prerouting" }!
        #expect(prerouting.hook == ChainHook(point: .prerouting, priority: -100))
        #expect(
            prerouting.rules.map(\.matches) == [
                [.tcpDestinationPort(15000)], [.tcpDestinationPort(15020)], [.tcpDestinationPort(22)], [.tcp],
            ])
        #expect(prerouting.rules.last?.action == .redirect(port: 16006))
    }

    @Test func customTableAndPortsRender() {
        let config = InterceptionConfig(table: "mesh", outboundRedirectPort: 16001)
        let text = NftTextRenderer.render(InterceptionPlanner.ruleset(for: config))
        #expect(text.hasPrefix("table inet mesh {\n"))
        #expect(
            text.contains(
                "\t\tmeta l4proto tcp counter redirect to :16001 comment \"sidecar: redirect outbound tcp\"\n"))
    }

    @Test(arguments: [
        (InterceptionConfig(table: "9lives"), "table '9lives'"),
        (InterceptionConfig(table: "a b"), "table 'a b'"),
        (InterceptionConfig(proxyUIDs: []), "proxy uid"),
        (InterceptionConfig(outboundRedirectPort: 0), "outbound port 0"),
        (InterceptionConfig(outboundRedirectPort: 15006), "outbound port and inbound port are both 15006"),
        (InterceptionConfig(excludedInboundPorts: [15006]), "inbound port 15006 is also excluded"),
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
