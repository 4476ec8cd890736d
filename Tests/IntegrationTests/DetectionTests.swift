import Foundation
import Testing

/// Protocol detection fails closed: bytes that a lenient HTTP server would still read as a request never pass as
/// opaque bytes around the HTTP rules, however they are split, spaced or timed. Upstream: a server reading requests
/// as leniently as RFC 9112 allows. Policy: `deny http pathPrefix: /admin`, default allow.
@Suite struct DetectionTests {
    static let policy = """
        policy: { outbound: { rules: [ { action: deny, name: no-admin, http: { pathPrefix: /admin } } ] } }
        """
    static let request = "GET /admin HTTP/1.1\\r\\nHost: api\\r\\n\\r\\n"

    /// Each way of sending `GET /admin` that a lenient server serves: none reaches it. Whatever the strict parser
    /// cannot read is answered 400/414 by the proxy; bytes still undecided at the detect timeout meet the deny
    /// rule and are reset; the rest meet the rule as a request and get 403.
    @Test(arguments: [
        (["G", "@0.6", "ET /admin HTTP/1.1\\r\\nHost: api\\r\\n\\r\\n"], "reset"),
        (["GET", "@0.6", " /admin HTTP/1.1\\r\\nHost: api\\r\\n\\r\\n"], "reset"),
        (["GET\\t/admin\\tHTTP/1.1\\r\\nHost: api\\r\\n\\r\\n"], "400|403"),
        (["\\r\\nGET /admin HTTP/1.1\\r\\nHost: api\\r\\n\\r\\n"], "403"),
        (["GET /admin" + String(repeating: "a", count: 9000) + " HTTP/1.1\\r\\nHost: api\\r\\n\\r\\n"], "403|414"),
    ])
    func aRequestTheRuleDeniesNeverReachesTheServer(parts: [String], expected: String) async throws {
        try await PodTopology.with { topology in
            try topology.sidecarInit("install")
            let proxy = try topology.startProxy(configuration: Self.policy)
            let server = try topology.startLenientHTTPServer(port: 9080)

            let result = try PeerClient.pacedSend(topology.inPod([]), host: topology.upstreamIPv4, port: 9080, parts)
            #expect(!result.received.contains("served"), "\(result)")
            #expect(!server.output.contains("served"), "\(server.output)")
            if expected == "reset" {
                #expect(result.ended == "reset", "\(result)")
                #expect(proxy.output.contains("rule=no-admin") && proxy.output.contains("protocol=undecided"))
            } else {
                let status = String(result.received.dropFirst("HTTP/1.1 ".count).prefix(3))
                #expect(expected.split(separator: "|").contains(Substring(status)), "\(result)")
            }
        }
    }

    /// A request sent a byte at a time: fast enough, it is detected as HTTP and denied by its rule (403); too slow
    /// for the detect timeout, it is undecided and reset. Either way the server never sees it.
    @Test func aRequestSentAByteAtATimeIsDecided() async throws {
        try await PodTopology.with { topology in
            try topology.sidecarInit("install")
            try topology.startProxy(configuration: Self.policy)
            let server = try topology.startLenientHTTPServer(port: 9080)

            let fast = try PeerClient.pacedSend(
                topology.inPod([]), host: topology.upstreamIPv4, port: 9080, [Self.request], bytewise: 0.001)
            #expect(fast.received.hasPrefix("HTTP/1.1 403"), "\(fast)")
            let slow = try PeerClient.pacedSend(
                topology.inPod([]), host: topology.upstreamIPv4, port: 9080, [Self.request], bytewise: 0.05)
            #expect(slow.ended == "reset" && !slow.received.contains("served"), "\(slow)")
            #expect(!server.output.contains("served"), "\(server.output)")
        }
    }

    /// What the rules allow still goes through, whichever way it is spaced: the detection is not a denial of HTTP.
    @Test func anAllowedRequestStillReachesTheServer() async throws {
        try await PodTopology.with { topology in
            try topology.sidecarInit("install")
            try topology.startProxy(configuration: Self.policy)
            try topology.startLenientHTTPServer(port: 9080)

            let result = try PeerClient.pacedSend(
                topology.inPod([]), host: topology.upstreamIPv4, port: 9080,
                ["\\r\\nGET /public HTTP/1.1\\r\\nHost: api\\r\\n\\r\\n"])
            #expect(result.received.hasPrefix("HTTP/1.1 200") && result.received.hasSuffix("served GET /public"))
        }
    }
}
