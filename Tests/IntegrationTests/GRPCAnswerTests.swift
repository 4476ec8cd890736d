import Foundation
import Testing

/// gRPC callers get gRPC answers: what the proxy answers a gRPC call itself (a denial, a rate limit, an upstream
/// it cannot reach, a request timeout) is a trailers-only gRPC response with the status a gRPC client acts on and
/// a message naming the reason. Client and server are Python's grpcio.
@Suite struct GRPCAnswerTests {
    @Test func deniedLimitedUnreachableAndTimedOutCallsGetTheirGRPCStatus() async throws {
        try await PodTopology.with { topology in
            try topology.sidecarInit("install")
            try topology.startProxy(
                configuration: """
                    timeouts: { request: 1s }
                    policy:
                      outbound:
                        rules: [ { action: deny, name: no-secret, http: { pathPrefix: /echo.Echo/Secret } } ]
                    limits: [ { name: one-per-second, ports: [9302], requestsPerSecond: 1, burst: 1 } ]
                    """)
            try topology.startGRPCServer(port: 9301)
            try topology.startGRPCServer(port: 9302)

            let calls = try topology.grpcCalls(port: 9301, ["Say", "Secret", "Slow", "Say"])
            #expect(calls[0].code == "OK" && calls[0].reply == "hello")
            #expect(calls[1].code == "PERMISSION_DENIED")
            #expect(calls[1].details == "denied by sidecar policy: rule no-secret")
            #expect(calls[2].code == "DEADLINE_EXCEEDED")
            #expect(calls[2].details == "upstream did not answer within the request timeout")
            // The connection and its other calls go on.
            #expect(calls[3].code == "OK")

            let limited = try topology.grpcCalls(port: 9302, ["Say", "Say"])
            #expect(limited[0].code == "OK")
            #expect(limited[1].code == "RESOURCE_EXHAUSTED")
            #expect(limited[1].details == "request rate limit reached: limit one-per-second")

            // Nothing listens on 9303: the proxy's own answer, not the client's connection failure.
            let unreachable = try topology.grpcCalls(port: 9303, ["Say"])
            #expect(unreachable[0].code == "UNAVAILABLE")
            #expect(unreachable[0].details == "upstream \(topology.upstreamIPv4):9303 unreachable")
        }
    }

    /// An upstream's GOAWAY is honoured: the server retires each connection after a second (gRPC's max connection
    /// age), and the calls after that go to a new upstream connection instead of failing on the retired one. The
    /// access log names the connection that carried each call.
    @Test func anUpstreamGOAWAYSendsNewCallsToANewConnection() async throws {
        try await PodTopology.with { topology in
            try topology.sidecarInit("install")
            let accessLog = try AccessLogFile()
            try topology.startProxy(
                configuration: """
                    policy: { outbound: { rules: [ { action: deny, http: { pathPrefix: /echo.Echo/Secret } } ] } }
                    """,
                arguments: ["--access-log", accessLog.path])
            try topology.startGRPCServer(port: 9304, maxAgeMs: 1000)

            let calls = try topology.grpcCalls(port: 9304, ["Say", "@2", "Say", "Say", "@2", "Say"])
            #expect(calls.map(\.code) == ["OK", "OK", "OK", "OK"], "\(calls)")
            let carriers = try accessLog.entries { $0.filter { $0["kind"] as? String == "request" }.count == 4 }
                .filter { $0["kind"] as? String == "request" }.map { $0["upstreamConnection"] as? String }
            #expect(carriers.count == 4 && carriers.allSatisfy { $0 != nil }, "\(carriers)")
            // The calls a second apart met a retired connection each time; the two in a row shared one.
            #expect(Set(carriers).count == 3 && carriers[1] == carriers[2], "\(carriers)")
        }
    }
}
