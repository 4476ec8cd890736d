import Foundation
import Testing

/// The DNS listener, with `sidecar-init --redirect-dns`: the app asks its nameserver as usual, and the proxy answers
/// from its cache, refuses denied names, or forwards to that nameserver (in the peer) without being captured again.
@Suite struct DNSTests {
    struct Answer: Decodable {
        var idMatches: Bool
        var rcode: Int
        var truncated: Bool
        var addresses: [String]
        var ttls: [Int]
    }

    @Test func queriesAreForwardedCachedAndDenied() async throws {
        try await PodTopology.with { topology in
            try topology.writePodResolvConf("nameserver \(topology.upstreamIPv4)\n")
            try topology.sidecarInit("install", "--redirect-dns")
            let nameserver = try topology.start(
                name: "dns-server",
                topology.inPeer(["/usr/bin/python3", "-B", Binaries.peer, "dns-serve", "--bind", topology.upstreamIPv4])
            )
            try nameserver.waitForOutput("READY")
            let proxy = try topology.startProxy(configuration: "dns: { deny: [\"*.evil.test\"] }")

            func ask(_ name: String, tcp: Bool = false, secondQuestion: String? = nil) throws -> Answer {
                let result = try Shell.run(
                    topology.inPod(
                        ["/usr/bin/python3", "-B", Binaries.peer, "dns-query", name, "--server", topology.upstreamIPv4]
                            + (tcp ? ["--tcp"] : []) + (secondQuestion.map { ["--second-question", $0] } ?? [])))
                return try JSONDecoder().decode(Answer.self, from: Data(result.stdout.utf8))
            }
            func asked(_ name: String) -> [String] {
                nameserver.output.split(separator: "\n").filter { $0.contains("\"\(name)\"") }.map(String.init)
            }

            let first = try ask("api.test")
            #expect(first.idMatches && first.rcode == 0 && first.addresses == ["10.1.2.3"], "\(proxy.output)")
            let second = try ask("API.test")
            #expect(second.idMatches && second.addresses == ["10.1.2.3"])
            #expect(second.ttls.allSatisfy { $0 <= 60 })
            #expect(asked("api.test").count == 1, "the second answer came from the cache")

            let denied = try ask("www.evil.test")
            #expect(denied.idMatches && denied.rcode == 3 && denied.addresses.isEmpty)
            #expect(asked("www.evil.test").isEmpty, "a denied name never reaches the nameserver")
            #expect(proxy.output.contains("dns query denied"))

            let missing = try ask("nowhere.example")
            #expect(missing.rcode == 3, "the nameserver's NXDOMAIN passes through")

            let overTCP = try ask("tcp.test", tcp: true)
            #expect(overTCP.addresses == ["10.1.2.3"])
            #expect(asked("tcp.test").first?.contains("\"tcp\"") == true)

            // Truncated over UDP, asked again over TCP: the whole way a stub resolver goes.
            let truncated = try ask("big.test")
            #expect(truncated.truncated && truncated.addresses.isEmpty)
            #expect(try ask("big.test", tcp: true).addresses == ["10.1.2.3"])

            // The system resolver of the app, through its resolv.conf.
            let resolved = try Shell.run(topology.inPod(["getent", "ahostsv4", "app.test"]))
            #expect(resolved.stdout.hasPrefix("10.1.2.3"), "\(resolved.stdout)")

            // The cache keeps answers apart by the CD and DO bits (dig sends EDNS; +dnssec sets DO, +cd sets CD).
            func dig(_ flags: [String]) throws -> String {
                try Shell.run(
                    topology.inPod(
                        ["dig", "@\(topology.upstreamIPv4)", "+tries=1", "+time=3", "+short"] + flags + ["bits.test"])
                ).stdout
            }
            #expect(try dig([]) == "10.1.2.3\n")
            #expect(try dig([]) == "10.1.2.3\n")
            #expect(asked("bits.test").count == 1, "the second answer came from the cache")
            _ = try dig(["+dnssec"])
            _ = try dig(["+cd"])
            #expect(asked("bits.test").count == 3, "a DO or CD query was answered with another query's answer")
            _ = try dig(["+dnssec"])
            #expect(asked("bits.test").count == 3)

            // Two questions in one query: FORMERR, and the nameserver is not asked.
            let twoQuestions = try ask("one.test", secondQuestion: "two.test")
            #expect(twoQuestions.rcode == 1 && twoQuestions.idMatches)
            #expect(asked("one.test").isEmpty && asked("two.test").isEmpty)

            let metrics = try topology.askProxy("/metrics")
            #expect(metrics.contains("sidecar_dns_queries_total{outcome=\"cached\",type=\"A\"} 3"), "\(metrics)")
            #expect(metrics.contains("sidecar_dns_queries_total{outcome=\"denied\",type=\"A\"} 1"))
        }
    }
}
