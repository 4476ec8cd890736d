import Foundation
import Testing

/// What an operator sees of known traffic: Prometheus metrics read by a real parser, access log lines, and the
/// admin API, which only the pod itself can reach.
@Suite struct ObservabilityTests {
    struct Sample: Decodable {
        var labels: [String: String]
        var value: Double
    }

    @Test func metricsAccessLogAndStatsDescribeKnownTraffic() async throws {
        try await PodTopology.with { topology in
            try topology.sidecarInit("install")
            let accessLog = try AccessLogFile()
            try topology.startProxy(
                configuration: """
                    policy:
                      outbound:
                        rules:
                          - { action: deny, name: no-9001, ports: [9001] }
                          - { action: deny, name: no-admin, http: { pathPrefix: /admin } }
                    """, arguments: ["--access-log", accessLog.path])
            try topology.startServer(inPod: false, port: 9000)
            try topology.startServer(inPod: false, port: 9001)
            try topology.startHTTPServer(port: 9080)

            let call = try PeerClient.call(topology.inPod([]), host: topology.upstreamIPv4, port: 9000, send: 5000)
            #expect(call.server.received == 5000)
            #expect(try !PeerClient.reaches(topology.inPod([]), host: topology.upstreamIPv4, port: 9001))
            let responses = try PeerClient.httpRequests(
                topology.inPod([]), host: topology.upstreamIPv4, port: 9080, ["GET /admin", "GET /ok"])
            #expect(responses.map(\.status) == [403, 200])

            // Closed connections are reported as they close: give the last one a moment.
            var samples: [String: [Sample]] = [:]
            for _ in 0..<50 {
                let scrape = try topology.askProxy("/metrics", port: 15020)
                let parsed = try Shell.run(["/usr/bin/python3", "-B", Binaries.peer, "metrics"], stdin: scrape)
                samples = try JSONDecoder().decode([String: [Sample]].self, from: Data(parsed.stdout.utf8))
                if value(samples, "sidecar_connections_closed_total", ["outcome": "forwarded"]) >= 2 { break }
                usleep(100_000)
            }
            let upstream9000 = "\(topology.upstreamIPv4):9000"
            #expect(value(samples, "sidecar_connections_opened_total", ["direction": "outbound"]) == 3)
            #expect(
                value(
                    samples, "sidecar_connections_closed_total", ["destination": upstream9000, "outcome": "forwarded"])
                    == 1)
            #expect(value(samples, "sidecar_connections_closed_total", ["outcome": "denied"]) == 1)
            #expect(value(samples, "sidecar_connections_active", ["direction": "outbound"]) == 0)
            #expect(value(samples, "sidecar_bytes_total", ["flow": "client_to_upstream"]) >= 5000)
            #expect(value(samples, "sidecar_policy_denials_total", ["rule": "no-9001"]) == 1)
            #expect(value(samples, "sidecar_policy_denials_total", ["rule": "no-admin"]) == 1)
            #expect(value(samples, "sidecar_http_requests_total", ["method": "GET", "status": "4xx"]) == 1)
            #expect(value(samples, "sidecar_http_requests_total", ["method": "GET", "status": "2xx"]) == 1)
            #expect(value(samples, "sidecar_upstream_connect_duration_seconds_count", [:]) >= 1)

            let entries = try accessLog.entries { $0.contains { $0["path"] as? String == "/ok" } }
            let connection = try #require(entries.first { $0["destination"] as? String == upstream9000 })
            #expect(connection["kind"] as? String == "connection")
            #expect(connection["outcome"] as? String == "forwarded")
            #expect(connection["bytesReceived"] as? Int ?? 0 >= 5000)
            #expect(connection["bytesSent"] as? Int ?? 0 >= 1000, "the 1000 bytes the server sent back, and its lines")
            #expect(connection["upstream"] as? String == upstream9000)
            let denied = try #require(entries.first { $0["path"] as? String == "/admin" })
            #expect(denied["status"] as? Int == 403)
            #expect(denied["rule"] as? String == "no-admin")
            #expect(denied["method"] as? String == "GET")
            #expect(denied["upstream"] == nil && denied["upstreamConnection"] == nil, "answered by the proxy")
            // The request names the connection that carried it as the server saw it come.
            let forwarded = try #require(entries.first { $0["path"] as? String == "/ok" })
            #expect(forwarded["upstream"] as? String == "\(topology.upstreamIPv4):9080")
            let carrier = try #require(forwarded["upstreamConnection"] as? String)
            #expect(carrier.hasSuffix(":\(responses[1].echo?.peerPort ?? 0)"), "\(carrier) \(responses)")

            let stats = try topology.askProxy("/stats")
            let json = try JSONSerialization.jsonObject(with: Data(stats.utf8)) as! [String: Any]
            #expect(json["configGeneration"] as? Int == 1)
            let traffic = json["traffic"] as! [String: Any]
            #expect((traffic["totalConnections"] as! [String: Int])["outbound"] == 3)
            let denials = traffic["recentDenials"] as! [[String: Any]]
            #expect(denials.map { $0["rule"] as? String } == ["no-admin", "no-9001"])
        }
    }

    /// The admin port answers in the pod only; the telemetry port answers the cluster.
    /// An access log whose output refuses lines (a full disk: `/dev/full`) counts each one it could not write.
    @Test func accessLogWriteFailuresAreCounted() async throws {
        try await PodTopology.with { topology in
            try topology.sidecarInit("install")
            try topology.startProxy(arguments: ["--access-log", "/dev/full"])
            try topology.startServer(inPod: false, port: 9000)
            _ = try PeerClient.call(topology.inPod([]), host: topology.upstreamIPv4, port: 9000)
            var metrics = ""
            for _ in 0..<20 where !metrics.contains("sidecar_access_log_write_failures_total 1") {
                usleep(100_000)
                metrics = try topology.askProxy("/metrics")
            }
            #expect(metrics.contains("sidecar_access_log_write_failures_total 1"), "\(metrics)")
        }
    }

    @Test func theAdminAPIIsUnreachableFromThePeer() async throws {
        try await PodTopology.with { topology in
            try topology.sidecarInit("install")
            try topology.startProxy()
            for path in ["/stats", "/metrics", "/ready"] {
                let fromPeer = try Shell.run(
                    topology.inPeer(["curl", "-s", "--max-time", "5", "http://\(topology.podIPv4):15000\(path)"]),
                    expectSuccess: false)
                #expect(fromPeer.status != 0, "\(path) answered the peer")
            }
            let telemetry = try Shell.run(
                topology.inPeer(["curl", "-s", "--max-time", "5", "http://\(topology.podIPv4):15020/healthz/ready"]))
            #expect(telemetry.stdout == "ready\n")
            try Shell.run(
                topology.inPeer(["curl", "-sf", "--max-time", "5", "http://\(topology.podIPv4):15020/metrics"]))
        }
    }

    /// `/connections` lists a connection while it is open, with its original destination.
    @Test func openConnectionsAreListed() async throws {
        try await PodTopology.with { topology in
            try topology.sidecarInit("install")
            try topology.startProxy()
            try topology.startServer(inPod: false, port: 9000)
            let held = try topology.startHeldCall(port: 9000, size: 1000)
            let listed = try topology.askProxy("/connections")
            let connections = try JSONSerialization.jsonObject(with: Data(listed.utf8)) as! [[String: Any]]
            #expect(connections.map { $0["destination"] as? String } == ["\(topology.upstreamIPv4):9000"])
            held.closeInput()
            #expect(held.waitForExit(timeout: .seconds(20)) == 0)
        }
    }

    /// `/config_dump` shows the configuration in force, defaults filled in, in the file's own shape.
    @Test func theConfigurationInForceIsDumped() async throws {
        try await PodTopology.with { topology in
            try topology.sidecarInit("install")
            try topology.startProxy(
                configuration: """
                    timeouts: { connect: 2s }
                    policy:
                      outbound:
                        default: deny
                        rules:
                          - { action: allow, name: api, cidrs: [10.0.0.0/8], ports: [443, 8000-8999] }
                          - { action: deny, http: { host: "*.internal", methods: [DELETE], pathPrefix: /admin } }
                    """)
            let dump = try topology.askProxy("/config_dump")
            let json = try JSONSerialization.jsonObject(with: Data(dump.utf8)) as! [String: Any]
            #expect(json["generation"] as? Int == 1)
            let timeouts = json["timeoutsMs"] as! [String: Int]
            #expect(
                timeouts == ["connect": 2000, "idle": 3_600_000, "detect": 300, "drain": 30_000, "keepalive": 60_000])
            let outbound = (json["policy"] as! [String: Any])["outbound"] as! [String: Any]
            #expect(outbound["default"] as? String == "deny")
            let rules = outbound["rules"] as! [[String: Any]]
            #expect(rules[0]["name"] as? String == "api")
            #expect(rules[0]["ports"] as? [String] == ["443", "8000-8999"])
            let http = rules[1]["http"] as! [String: Any]
            #expect(http["host"] as? String == "*.internal" && http["pathPrefix"] as? String == "/admin")
            let inbound = (json["policy"] as! [String: Any])["inbound"] as! [String: Any]
            #expect(inbound["default"] as? String == "allow")
        }
    }

    /// A client's `traceparent` is continued (same trace, the proxy's span as the upstream's parent); a request
    /// without one starts a trace. The access log names both spans.
    @Test func traceContextReachesTheUpstream() async throws {
        try await PodTopology.with { topology in
            try topology.sidecarInit("install")
            let accessLog = try AccessLogFile()
            try topology.startProxy(
                configuration: "policy: { outbound: { rules: [ { action: deny, http: { pathPrefix: /admin } } ] } }",
                arguments: ["--access-log", accessLog.path])
            try topology.startHTTPServer(port: 9080)
            let traceID = "0af7651916cd43dd8448eb211c80319c"
            let exchange = try PeerClient.httpRaw(
                topology.inPod([]), host: topology.upstreamIPv4, port: 9080,
                "GET /a HTTP/1.1\r\nHost: a\r\ntraceparent: 00-\(traceID)-b7ad6b7169203331-01\r\n\r\n"
                    + "GET /b HTTP/1.1\r\nHost: a\r\n\r\n")
            let seen = exchange.received.components(separatedBy: "\"traceparent\": \"").dropFirst()
                .map { String($0.prefix(55)) }
            #expect(seen.count == 2, "\(exchange.received)")
            let continued = try #require(seen.first)
            #expect(continued.hasPrefix("00-\(traceID)-") && continued.hasSuffix("-01"))
            #expect(!continued.contains("b7ad6b7169203331"), "the upstream's parent is the proxy's span")
            let started = try #require(seen.last)
            #expect(started.count == 55 && !started.contains(traceID))

            let first = try #require(
                try accessLog.entries { $0.contains { $0["path"] as? String == "/a" } }
                    .first { $0["path"] as? String == "/a" })
            #expect(first["traceId"] as? String == traceID)
            #expect(first["parentSpanId"] as? String == "b7ad6b7169203331")
            #expect(continued.contains(first["spanId"] as? String ?? "none"))
        }
    }

    /// The sum of the samples of `name` whose labels include `labels`.
    private func value(_ samples: [String: [Sample]], _ name: String, _ labels: [String: String]) -> Double {
        (samples[name] ?? []).filter { sample in labels.allSatisfy { sample.labels[$0.key] == $0.value } }
            .reduce(0) { $0 + $1.value }
    }
}
