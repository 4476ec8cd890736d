import Foundation
import Testing

/// Services: the app dials one virtual address, and the proxy balances its connections over real endpoints,
/// retrying around and leaving out the ones that fail.
@Suite struct ServiceTests {
    static let virtualAddress = "10.96.0.10"

    /// Six connections to the virtual address, round robin over two endpoints: three each.
    @Test func aServiceSpreadsConnectionsOverItsEndpoints() async throws {
        try await PodTopology.with { topology in
            try topology.sidecarInit("install")
            try topology.startProxy(
                configuration: """
                    services:
                      - name: orders
                        address: \(Self.virtualAddress):80
                        endpoints: [\(topology.upstreamIPv4):9101, \(topology.upstreamIPv4):9102]
                        balancer: round_robin
                    """)
            try topology.startHTTPServer(port: 9101)
            try topology.startHTTPServer(port: 9102)
            var ports: [Int] = []
            for index in 0..<6 {
                let responses = try PeerClient.httpRequests(
                    topology.inPod([]), host: Self.virtualAddress, port: 80, ["GET /\(index)"])
                ports += responses.compactMap { $0.echo?.localPort }
            }
            #expect(ports.sorted() == [9101, 9101, 9101, 9102, 9102, 9102], "\(ports)")
            let services = try topology.askProxy("/services")
            let json = try JSONSerialization.jsonObject(with: Data(services.utf8)) as! [[String: Any]]
            #expect(json.first?["name"] as? String == "orders")
            let endpoints = json.first?["endpoints"] as? [[String: Any]] ?? []
            #expect(
                endpoints.compactMap { $0["address"] as? String }.sorted() == [
                    "\(topology.upstreamIPv4):9101", "\(topology.upstreamIPv4):9102",
                ], "\(services)")
        }
    }

    /// HTTP/2 is balanced stream by stream: twenty requests on one client connection, round robin over two HTTP/2
    /// endpoints, are answered ten by each (the access log names the endpoint of each request).
    @Test func eachHTTP2StreamIsBalancedOnItsOwn() async throws {
        try await PodTopology.with { topology in
            try topology.sidecarInit("install")
            let accessLog = try AccessLogFile()
            try topology.startProxy(
                configuration: """
                    services:
                      - name: orders
                        address: \(Self.virtualAddress):80
                        endpoints: [\(topology.upstreamIPv4):9445, \(topology.upstreamIPv4):9446]
                        balancer: round_robin
                    """, arguments: ["--access-log", accessLog.path])
            try topology.startHTTP2Server(port: 9445)
            try topology.startHTTP2Server(port: 9446)
            let load = try Shell.run(
                topology.inPod(["h2load", "-n", "20", "-c", "1", "-m", "4", "http://\(Self.virtualAddress):80/"]))
            #expect(load.stdout.contains("20 succeeded, 0 failed"), "\(load.stdout)")
            let requests = try accessLog.entries { $0.filter { $0["kind"] as? String == "request" }.count == 20 }
                .filter { $0["kind"] as? String == "request" }
            let byEndpoint = Dictionary(grouping: requests) { $0["upstream"] as? String ?? "none" }.mapValues(\.count)
            #expect(
                byEndpoint == ["\(topology.upstreamIPv4):9445": 10, "\(topology.upstreamIPv4):9446": 10],
                "\(byEndpoint)")
        }
    }

    /// One endpoint refuses every connection: each connection still reaches the live one (a retry), the dead one
    /// is left out after two failures in a row, and no connection tries it after that.
    @Test func aDeadEndpointIsRetriedAroundAndEjected() async throws {
        try await PodTopology.with { topology in
            try topology.sidecarInit("install")
            let proxy = try topology.startProxy(
                configuration: """
                    services:
                      - name: orders
                        address: \(Self.virtualAddress):80
                        endpoints: [\(topology.upstreamIPv4):9109, \(topology.upstreamIPv4):9101]
                        balancer: least_request
                        outlierDetection: { consecutiveFailures: 2, ejectionTime: 30s }
                        retries: 1
                    """)
            try topology.startHTTPServer(port: 9101)
            for index in 0..<12 {
                let responses = try PeerClient.httpRequests(
                    topology.inPod([]), host: Self.virtualAddress, port: 80, ["GET /\(index)"])
                #expect(responses.map(\.status) == [200])
                #expect(responses.first?.echo?.localPort == 9101)
            }
            let failures = proxy.output.components(separatedBy: "service endpoint connect failed").count - 1
            #expect(failures == 2, "ejected after two failures in a row: \(proxy.output.suffix(3000))")
            let services = try topology.askProxy("/services")
            let json = try JSONSerialization.jsonObject(with: Data(services.utf8)) as! [[String: Any]]
            let endpoints = try #require(json.first?["endpoints"] as? [[String: Any]])
            let dead = endpoints.first { ($0["address"] as? String)?.hasSuffix(":9109") == true }
            #expect(dead?["ejected"] as? Bool == true, "\(services)")
        }
    }

    /// One endpoint answers every request with 503: idempotent requests that meet it are sent again to the other
    /// endpoint and answered 200; a POST is not (it might be done twice), and gets the 503 as it was.
    @Test func idempotentRequestsAreRetriedOnAnotherEndpoint() async throws {
        try await PodTopology.with { topology in
            try topology.sidecarInit("install")
            let proxy = try topology.startProxy(
                configuration: Self.retryingService(failing: 9103, answering: 9101, in: topology))
            try topology.startHTTPServer(port: 9103, status: 503)
            try topology.startHTTPServer(port: 9101)
            // Each connection's first request goes where the round robin points: the failing endpoint on at least
            // one of every two connections (a retry moves the turn on too). The first two lead with a DELETE, the
            // others with a GET, so both methods meet the failing endpoint first; a retried request moves the
            // connection to the endpoint that answered.
            for index in 0..<4 {
                let requests =
                    index < 2 ? ["DELETE /\(index)", "GET /\(index)"] : ["GET /\(index)", "DELETE /\(index)"]
                let responses = try PeerClient.httpRequests(
                    topology.inPod([]), host: Self.virtualAddress, port: 80, requests)
                #expect(responses.map(\.status) == [200, 200], "\(responses)")
                #expect(responses.allSatisfy { $0.echo?.localPort == 9101 })
            }
            let retried = proxy.output.split(separator: "\n").filter {
                $0.contains("request retried on another endpoint")
            }
            #expect(retried.contains { $0.contains("DELETE") }, "\(retried)")
            #expect(retried.contains { $0.contains("GET") }, "\(retried)")
            var posts: [Int] = []
            for index in 0..<2 {
                posts += try PeerClient.httpRequests(
                    topology.inPod([]), host: Self.virtualAddress, port: 80, ["POST /\(index) 100"]
                ).map(\.status)
            }
            #expect(posts.sorted() == [200, 503], "a POST is never sent twice")
        }
    }

    /// A service of two endpoints taken in turn, the first failing, that retries once and never leaves an endpoint
    /// out (so the failing one keeps being met).
    static func retryingService(failing: Int, answering: Int, in topology: PodTopology) -> String {
        """
        services:
          - name: orders
            address: \(virtualAddress):80
            endpoints: [\(topology.upstreamIPv4):\(failing), \(topology.upstreamIPv4):\(answering)]
            balancer: round_robin
            outlierDetection: { consecutiveFailures: 100 }
            retries: 1
        """
    }

    /// The same for HTTP/2, stream by stream: one endpoint answers 503, and each GET of one client connection that
    /// meets it goes again to the other, which answers all twenty (the access log names it for each); POSTs are not
    /// sent twice, and half of them get the 503 as it was.
    @Test func idempotentHTTP2StreamsAreRetriedOnAnotherEndpoint() async throws {
        try await PodTopology.with { topology in
            try topology.sidecarInit("install")
            let accessLog = try AccessLogFile()
            let proxy = try topology.startProxy(
                configuration: Self.retryingService(failing: 9447, answering: 9448, in: topology),
                arguments: ["--access-log", accessLog.path])
            try topology.startHTTP2Server(port: 9447, status: 503)
            try topology.startHTTP2Server(port: 9448)
            let target = "http://\(Self.virtualAddress):80/status"
            let gets = try Shell.run(topology.inPod(["h2load", "-n", "20", "-c", "1", "-m", "4", target]))
            #expect(gets.stdout.contains("status codes: 20 2xx, 0 3xx, 0 4xx, 0 5xx"), "\(gets.stdout)")
            let requests = try accessLog.entries { $0.filter { $0["kind"] as? String == "request" }.count == 20 }
                .filter { $0["kind"] as? String == "request" }
            #expect(
                requests.allSatisfy {
                    $0["upstream"] as? String == "\(topology.upstreamIPv4):9448" && $0["status"] as? Int == 200
                }, "\(requests)")
            let retried = proxy.output.split(separator: "\n").filter {
                $0.contains("request retried on another endpoint")
            }
            #expect(retried.count >= 9 && retried.allSatisfy { $0.contains("GET") }, "\(retried)")
            #expect(
                try topology.metric(#"sidecar_upstream_requests_resent_total{reason="failed"}"#) == retried.count)

            let body = try topology.writeReadableFile(named: "\(topology.pod)-post-body", "order")
            let posts = try Shell.run(
                topology.inPod(["h2load", "-n", "4", "-c", "1", "-m", "1", "-d", body, target]))
            #expect(posts.stdout.contains("status codes: 2 2xx, 0 3xx, 0 4xx, 2 5xx"), "\(posts.stdout)")
        }
    }

    /// A stream that timed out has its answer (504): the upstream stream closed after it is no failure, and the
    /// request is not sent to the other endpoint, which never sees it.
    @Test func aTimedOutHTTP2StreamIsNotRetried() async throws {
        try await PodTopology.with { topology in
            try topology.sidecarInit("install")
            let accessLog = try AccessLogFile()
            let proxy = try topology.startProxy(
                configuration: "timeouts: { request: 1s }\n"
                    + Self.retryingService(failing: 9445, answering: 9446, in: topology),
                arguments: ["--access-log", accessLog.path])
            try topology.startHTTP2Server(port: 9445)
            try topology.startHTTP2Server(port: 9446)
            let call = try Shell.run(
                topology.inPod(["nghttp", "-nv", "--timeout=10", "http://\(Self.virtualAddress):80/slow"]))
            #expect(HTTP2Trace(call.stdout).status(of: "/slow") == 504, "\(call.stdout)")
            let requests = try accessLog.entries { $0.contains { $0["kind"] as? String == "request" } }
                .filter { $0["kind"] as? String == "request" }
            #expect(requests.map { $0["status"] as? Int } == [504], "\(requests)")
            // Long enough for a resent request to reach the other endpoint and be answered late.
            try await Task.sleep(for: .seconds(3))
            #expect(!proxy.output.contains("request retried on another endpoint"), "\(proxy.output)")
            #expect(try topology.metric(#"sidecar_upstream_requests_resent_total{reason="failed"}"#) == 0)
        }
    }

    /// Plain TCP to a service whose first endpoint does not answer: the client's first line is read to tell its
    /// protocol, and its other bytes and its FIN come while the proxy still waits on that endpoint; they are held and
    /// reach the second endpoint intact, in order.
    @Test func bytesSentWhileAnEndpointIsTriedArriveIntact() async throws {
        try await PodTopology.with { topology in
            try topology.sidecarInit("install")
            try topology.blackHole(port: 9082)
            try topology.startProxy(
                configuration: """
                    timeouts: { connect: 1s }
                    services:
                      - name: orders
                        address: \(Self.virtualAddress):80
                        endpoints: [\(topology.upstreamIPv4):9082, \(topology.upstreamIPv4):9000]
                        retries: 1
                    """)
            try topology.startServer(inPod: false, port: 9000)
            let call = try PeerClient.call(
                topology.inPod([]), host: Self.virtualAddress, port: 80, send: 20_000, expect: 200_000, eager: true,
                pause: 0.5)
            #expect(call.server.received == 20_000 && call.server.sha256 == call.sentSha256)
            #expect(call.received == 200_000 && call.receivedSha256 == call.expectedSha256)
            #expect(call.hello.localPort == 9000)
        }
    }

    /// An endpoint given by name is resolved as the app would resolve it (here, the pod's /etc/hosts).
    @Test func endpointsMayBeDNSNames() async throws {
        try await PodTopology.with { topology in
            try topology.writePodHosts("127.0.0.1 localhost\n\(topology.upstreamIPv4) orders.test\n")
            try topology.sidecarInit("install")
            try topology.startProxy(
                configuration: """
                    services: [ { name: orders, address: "\(Self.virtualAddress):80", endpoints: ["orders.test:9101"] } ]
                    """)
            try topology.startHTTPServer(port: 9101)
            let responses = try PeerClient.httpRequests(
                topology.inPod([]), host: Self.virtualAddress, port: 80, ["GET /by-name"])
            #expect(responses.map(\.status) == [200])
            #expect(responses.first?.echo?.localPort == 9101)
        }
    }
}
