import Foundation
import Testing

/// `sidecar-status` reports the two halves an operator needs: rules installed, proxy ready.
@Suite struct StatusTests {
    static func statusJSON(_ topology: PodTopology) throws -> [String: Any] {
        let result = try Shell.run(
            [Binaries.sidecarStatus, "--json", "--netns", topology.podNamespacePath], expectSuccess: false)
        return try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as! [String: Any]
    }

    /// The kernel's packet count on the rule with this comment, summed over its chains.
    static func packets(_ status: [String: Any], comment: String) -> Int {
        let interception = status["interception"] as! [String: Any]
        let chains = interception["chains"] as! [[String: Any]]
        return chains.flatMap { $0["rules"] as! [[String: Any]] }
            .filter { $0["comment"] as? String == comment }
            .reduce(0) { $0 + ($1["packets"] as! Int) }
    }

    @Test func exitCodeSaysWhetherInterceptionAndProxyAreBothUp() async throws {
        try await PodTopology.with { topology in
            let status = [Binaries.sidecarStatus, "--netns", topology.podNamespacePath]

            let nothing = try Shell.run(status, expectSuccess: false)
            #expect(nothing.status == 1)
            #expect(nothing.stdout.contains("degraded: interception, proxy"))

            try topology.sidecarInit("install")
            let rulesOnly = try Shell.run(status, expectSuccess: false)
            #expect(rulesOnly.status == 1)
            #expect(rulesOnly.stdout.contains("interception: installed (table inet sidecar, 2 chains, 8 rules)"))
            #expect(rulesOnly.stdout.contains("degraded: proxy"))

            let proxy = try topology.startProxy()
            let healthy = try Shell.run(status, expectSuccess: false)
            #expect(healthy.status == 0, "\(healthy.stdout)")
            #expect(healthy.stdout.contains("proxy: ready"))

            #expect(proxy.stop() == 0)
            #expect(try Shell.run(status, expectSuccess: false).status == 1)
        }
    }
}
