import Foundation
import Testing

/// Active health checks of a service's endpoints against real servers: nginx endpoints whose health path turns
/// to 503, a TCP endpoint that stops listening, and a gRPC server with the standard health service
/// (grpcio-health-checking) that turns NOT_SERVING. The app keeps dialing the service's one virtual address.
@Suite struct ActiveHealthCheckTests {
    static let virtualAddress = "10.96.0.10"

    /// What `/services` says of each endpoint of the first service: its health and the last check's result.
    static func endpointHealth(_ topology: PodTopology) throws -> [String: (health: String, result: String)] {
        let services = try topology.askProxy("/services")
        let json = try JSONSerialization.jsonObject(with: Data(services.utf8)) as? [[String: Any]] ?? []
        let endpoints = json.first?["endpoints"] as? [[String: Any]] ?? []
        var health: [String: (String, String)] = [:]
        for endpoint in endpoints {
            guard let address = endpoint["address"] as? String else { continue }
            health[address] = (endpoint["health"] as? String ?? "-", endpoint["lastResult"] as? String ?? "-")
        }
        return health
    }

    /// nginx in the peer on `ports` of the upstream address: `/healthz` answers 503 while a file `down-PORT` exists
    /// in the folder returned, and `/` answers with the port, so the app can tell which endpoint served it.
    static func startNginx(_ topology: PodTopology, ports: [Int]) throws -> String {
        let (nginx, folder) = try topology.startNginx(name: "health-nginx") { folder in
            ports.map { port in
                """
                server {
                    listen \(topology.upstreamIPv4):\(port);
                    location = /healthz {
                        if (-f \(folder)/down-$server_port) { return 503 "down\\n"; }
                        return 200 "up\\n";
                    }
                    location / { return 200 "$server_port\\n"; }
                }
                """
            }.joined(separator: "\n")
        }
        try waitUntil(within: .seconds(10), "nginx listens") {
            guard nginx.isRunning else { throw BackgroundProcess.ProcessEnded(name: "nginx", output: nginx.output) }
            return try Shell.run(
                topology.inPeer(["curl", "-s", "http://\(topology.upstreamIPv4):\(ports[0])/"]), expectSuccess: false
            ).status == 0
        }
        return folder
    }

    /// Which endpoint served each of `count` new connections from the app to the service.
    static func servedBy(_ topology: PodTopology, count: Int) throws -> [String] {
        try (0..<count).map { _ in
            try Shell.run(
                topology.inPod(["curl", "-s", "-m", "5", "http://\(virtualAddress):80/"]), expectSuccess: false
            )
            .stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        }
    }

    @Test func anHTTPEndpointAnswering503LeavesRotationAndComesBack() async throws {
        try await PodTopology.with { topology in
            try topology.sidecarInit("install")
            let prefix = try Self.startNginx(topology, ports: [9201, 9202])
            try topology.startProxy(
                configuration: """
                    services:
                      - name: web
                        address: \(Self.virtualAddress):80
                        endpoints: [\(topology.upstreamIPv4):9201, \(topology.upstreamIPv4):9202]
                        healthCheck:
                          http: { path: /healthz, expectedStatuses: [200] }
                          interval: 1s
                          timeout: 500ms
                          unhealthyThreshold: 2
                          healthyThreshold: 2
                    """)
            let first = "\(topology.upstreamIPv4):9201"
            let second = "\(topology.upstreamIPv4):9202"
            try waitUntil(within: .seconds(5), "both endpoints checked healthy") {
                let health = try Self.endpointHealth(topology)
                return health[first]?.health == "healthy" && health[second]?.health == "healthy"
            }
            #expect(Set(try Self.servedBy(topology, count: 4)) == ["9201", "9202"])

            // Two failed checks a second apart (plus jitter and the timeout) take it out.
            FileManager.default.createFile(atPath: "\(prefix)/down-9202", contents: nil)
            try waitUntil(within: .seconds(5), "9202 out of rotation") {
                try Self.endpointHealth(topology)[second]?.health == "unhealthy"
            }
            #expect(try Self.endpointHealth(topology)[second]?.result == "HTTP 503")
            #expect(try Self.servedBy(topology, count: 6) == Array(repeating: "9201", count: 6))
            let metrics = try topology.askProxy("/metrics").split(separator: "\n")
            #expect(
                metrics.contains {
                    $0.hasPrefix("sidecar_service_endpoint_healthy{") && $0.contains(":9202") && $0.hasSuffix(" 0.0")
                },
                "\(metrics.filter { $0.contains("health") })")
            #expect(
                metrics.contains { $0.hasPrefix("sidecar_health_checks_total{") && $0.contains(#"result="unhealthy""#) }
            )
            let status = try Shell.run(
                [Binaries.sidecarStatus, "--netns", topology.podNamespacePath], expectSuccess: false
            ).stdout
            #expect(status.contains("service web \(Self.virtualAddress):80"), "\(status)")
            #expect(status.contains("\(second)  UNHEALTHY, out of rotation"), "\(status)")
            #expect(status.contains("last check HTTP 503"), "\(status)")

            // Every endpoint out: traffic goes to all rather than nowhere.
            FileManager.default.createFile(atPath: "\(prefix)/down-9201", contents: nil)
            try waitUntil(within: .seconds(5), "9201 out of rotation too") {
                try Self.endpointHealth(topology)[first]?.health == "unhealthy"
            }
            #expect(Set(try Self.servedBy(topology, count: 4)) == ["9201", "9202"])

            // Two passing checks bring each back.
            try FileManager.default.removeItem(atPath: "\(prefix)/down-9201")
            try FileManager.default.removeItem(atPath: "\(prefix)/down-9202")
            try waitUntil(within: .seconds(5), "both back in rotation") {
                let health = try Self.endpointHealth(topology)
                return health[first]?.health == "healthy" && health[second]?.health == "healthy"
            }
            #expect(Set(try Self.servedBy(topology, count: 4)) == ["9201", "9202"])
        }
    }

    @Test func aTCPEndpointThatStopsListeningLeavesRotation() async throws {
        try await PodTopology.with { topology in
            try topology.sidecarInit("install")
            try topology.startServer(inPod: false, port: 9211)
            let stopping = try topology.startServer(inPod: false, port: 9212)
            try topology.startProxy(
                configuration: """
                    services:
                      - name: db
                        address: \(Self.virtualAddress):80
                        endpoints: [\(topology.upstreamIPv4):9211, \(topology.upstreamIPv4):9212]
                        healthCheck: { tcp: {}, interval: 1s, timeout: 500ms, unhealthyThreshold: 1 }
                    """)
            let stopped = "\(topology.upstreamIPv4):9212"
            try waitUntil(within: .seconds(5), "checked healthy") {
                try Self.endpointHealth(topology)[stopped]?.health == "healthy"
            }
            _ = stopping.stop(signal: SIGKILL)
            try waitUntil(within: .seconds(5), "9212 out of rotation") {
                try Self.endpointHealth(topology)[stopped]?.health == "unhealthy"
            }
            #expect(try Self.endpointHealth(topology)[stopped]?.result.contains("connection refused") == true)
            #expect(try Self.endpointHealth(topology)["\(topology.upstreamIPv4):9211"]?.health == "healthy")
        }
    }

    @Test func aGRPCEndpointThatTurnsNotServingLeavesRotation() async throws {
        try await PodTopology.with { topology in
            try topology.sidecarInit("install")
            // PyPI's grpcio-health-checking is installed for root's python3.
            let server = try topology.start(
                name: "grpc-health-9221",
                topology.inPeer([
                    "python3", "-B", Binaries.peer, "grpc-health-serve", "--port", "9221", "--service", "orders",
                ]))
            try server.waitForOutput("READY")
            try topology.startProxy(
                configuration: """
                    services:
                      - name: orders
                        address: \(Self.virtualAddress):80
                        endpoints: [\(topology.upstreamIPv4):9221]
                        healthCheck:
                          grpc: { service: orders }
                          interval: 1s
                          timeout: 500ms
                          unhealthyThreshold: 1
                          healthyThreshold: 1
                    """)
            let endpoint = "\(topology.upstreamIPv4):9221"
            try waitUntil(within: .seconds(5), "checked SERVING") {
                try Self.endpointHealth(topology)[endpoint].map { $0 == ("healthy", "SERVING") } ?? false
            }
            server.send(line: "NOT_SERVING")
            try waitUntil(within: .seconds(5), "NOT_SERVING seen") {
                try Self.endpointHealth(topology)[endpoint].map { $0 == ("unhealthy", "NOT_SERVING") } ?? false
            }
            server.send(line: "SERVING")
            try waitUntil(within: .seconds(5), "SERVING again") {
                try Self.endpointHealth(topology)[endpoint].map { $0 == ("healthy", "SERVING") } ?? false
            }
        }
    }
}
