import Foundation
import Testing

/// Intrusion detection against real attack tools from Debian: nmap's connect scan is alerted and its source blocked
/// while another client goes on; sqlmap's injections get 403 in prevent mode and never reach the app, and in detect
/// mode reach it and are alerted; an app scanning its neighbour raises an outbound alert; ordinary traffic from
/// curl, nghttp and wrk raises none.
@Suite struct IntrusionDetectionTests {
    struct Sample: Decodable {
        var labels: [String: String]
        var value: Double
    }

    struct Snapshot: Decodable {
        struct Alert: Decodable {
            var kind: String
            var direction: String
            var source: String
            var destination: String?
            var path: String?
            var detector: String
            var signature: String
            var severity: String
            var evidence: String
            var location: String?
            var action: String
            var blockSeconds: Int?
        }

        struct Block: Decodable {
            var source: String
            var direction: String
            var signature: String
            var expiresInSeconds: Int
        }

        var alerts: [Alert]
        var blocks: [Block]
    }

    func snapshot(_ topology: PodTopology) throws -> Snapshot {
        try JSONDecoder().decode(Snapshot.self, from: Data(topology.askProxy("/ids").utf8))
    }

    func samples(_ topology: PodTopology) throws -> [String: [Sample]] {
        let scrape = try topology.askProxy("/metrics", port: 15020)
        let parsed = try Shell.run(["/usr/bin/python3", "-B", Binaries.peer, "metrics"], stdin: scrape)
        return try JSONDecoder().decode([String: [Sample]].self, from: Data(parsed.stdout.utf8))
    }

    func accessLog(_ topology: PodTopology) throws -> String {
        let path = try topology.writeReadableFile(named: "\(topology.pod)-access.log", "")
        try FileManager.default.setAttributes([.posixPermissions: 0o666], ofItemAtPath: path)
        return path
    }

    func alertLines(_ path: String) throws -> [[String: Any]] {
        try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").compactMap {
            let entry = try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any]
            return entry["kind"] as? String == "alert" ? entry : nil
        }
    }

    /// An HTTP GET from the peer with curl, from `source` (the peer's link address, or the upstream address its
    /// loopback also holds): the status, or 0 when the connection failed.
    func get(_ topology: PodTopology, from source: String, port: Int = 8080) throws -> Int {
        let result = try Shell.run(
            topology.inPeer([
                "curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "5", "--interface", source,
                "http://\(topology.podIPv4):\(port)/",
            ]), expectSuccess: false)
        return Int(result.stdout) ?? 0
    }

    @Test func nmapsConnectScanIsAlertedAndItsSourceBlocked() async throws {
        try await PodTopology.with { topology in
            try topology.sidecarInit("install")
            let log = try accessLog(topology)
            try topology.startProxy(
                configuration: """
                    ids:
                      inbound:
                        mode: prevent
                        scan: { distinctPorts: 20, window: 10s, action: block, blockFor: 5m }
                    """, arguments: ["--access-log", log])
            try topology.startHTTPServer(port: 8080, inPod: true)
            #expect(try get(topology, from: topology.peerIPv4) == 200)

            let scan = try Shell.run(
                topology.inPeer([
                    "nmap", "-sT", "-Pn", "-n", "--max-retries", "0", "-p", "1-200", topology.podIPv4,
                ]))
            #expect(scan.stdout.contains("Nmap done"), "\(scan.stdout)")

            let found = try snapshot(topology)
            let alert = try #require(found.alerts.first { $0.detector == "scan" }, "\(found)")
            #expect(alert.signature == "scan-ports")
            #expect(alert.source == topology.peerIPv4)
            #expect(alert.direction == "inbound")
            #expect(alert.action == "block")
            #expect(alert.blockSeconds == 300)
            #expect(alert.evidence.contains("21 ports of \(topology.podIPv4) within 10s"), "\(alert.evidence)")
            #expect(found.alerts.count == 1, "one scan, one alert: \(found.alerts)")
            let block = try #require(found.blocks.first)
            #expect(block.source == topology.peerIPv4)
            #expect((290...300).contains(block.expiresInSeconds))

            // The scanner's new connections are reset at accept; a client from another address is served.
            #expect(try get(topology, from: topology.peerIPv4) == 0)
            #expect(try get(topology, from: topology.upstreamIPv4) == 200)

            let line = try #require(try alertLines(log).first)
            #expect(line["detector"] as? String == "scan")
            #expect(line["source"] as? String == topology.peerIPv4)
            #expect(line["severity"] as? String == "high")
            let series = try samples(topology)["sidecar_ids_alerts_total"] ?? []
            #expect(
                series.map(\.labels) == [["detector": "scan", "signature": "scan-ports", "direction": "inbound"]])
            #expect(series.first?.value == 1)
            let status = try Shell.run(
                [Binaries.sidecarStatus, "--netns", topology.podNamespacePath], expectSuccess: false)
            #expect(status.stdout.contains("blocked sources: 1"), "\(status.stdout)")
            #expect(status.stdout.contains("\(topology.peerIPv4) inbound by scan-ports"), "\(status.stdout)")
            #expect(status.stdout.contains("scan-ports (high) block"), "\(status.stdout)")

            // The operator lifts the block, with the admin token: the source is served again. Lifting twice, or
            // nonsense, says so.
            let lift = "/ids/blocks?source=\(topology.peerIPv4)"
            let withoutToken = try Shell.run(
                topology.inPod(
                    uid: 1337,
                    [
                        "curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "-X", "DELETE",
                        "http://127.0.0.1:15000\(lift)",
                    ]))
            #expect(withoutToken.stdout == "401")
            #expect(try topology.askProxy(lift, method: "DELETE", statusOnly: true) == "200")
            #expect(try get(topology, from: topology.peerIPv4) == 200)
            #expect(try topology.askProxy(lift, method: "DELETE", statusOnly: true) == "404")
            #expect(
                try topology.askProxy("/ids/blocks?source=10.77.0.0/24", method: "DELETE", statusOnly: true) == "400")
            #expect(try snapshot(topology).blocks.isEmpty)
        }
    }

    /// sqlmap against an app open to SQL injection. `--random-agent`: its own User-Agent would be refused by the
    /// scanner signatures before any payload is tried. `techniques` narrows what it tries (sqlmap's letters).
    func sqlmap(_ topology: PodTopology, techniques: String = "BEUSTQ") throws -> String {
        let output = "\(Binaries.directory)/\(topology.pod)-sqlmap"
        return try Shell.run(
            topology.inPeer([
                "sqlmap", "-u", "http://\(topology.podIPv4):8080/item?id=1", "--batch", "--random-agent",
                "--flush-session", "--disable-coloring", "--timeout", "5", "--retries", "0", "--technique", techniques,
                "--output-dir", output,
            ]), expectSuccess: false
        ).stdout
    }

    /// What the app was handed that an injection would need: SQL keywords or a comment, by the test's own reading.
    func injectionsSeen(by shop: BackgroundProcess) -> [String] {
        shop.output.split(separator: "\n").compactMap { line in
            guard let data = line.data(using: .utf8),
                let request = (try? JSONSerialization.jsonObject(with: data) as? [String: Any])?["request"] as? String,
                let decoded = request.replacingOccurrences(of: "+", with: " ").removingPercentEncoding?.lowercased()
            else { return nil }
            let injection = [" and ", " or ", "union", "select", "order by", "--", "sleep("].contains {
                decoded.contains($0)
            }
            return injection ? decoded : nil
        }
    }

    @Test func sqlmapIsRefusedInPreventMode() async throws {
        try await PodTopology.with { topology in
            try topology.sidecarInit("install")
            let log = try accessLog(topology)
            try topology.startProxy(
                configuration: "ids: { inbound: { mode: prevent, signatures: { sets: [all] } } }",
                arguments: ["--access-log", log])
            let shop = try topology.start(
                name: "shop",
                topology.inPod(["/usr/bin/python3", "-B", Binaries.peer, "shop-serve", "--port", "8080"]))
            try shop.waitForOutput("READY")

            let report = try sqlmap(topology)
            #expect(report.contains("do not appear to be injectable"), "\(report)")
            #expect(!report.contains("identified the following injection point"))
            #expect(report.contains("403 (Forbidden)"), "\(report)")
            #expect(injectionsSeen(by: shop).isEmpty, "the app was handed: \(injectionsSeen(by: shop))")
            // Its plain requests did reach the app.
            #expect(shop.output.contains(#""request": "GET /item?id=1""#))

            let alerts = try snapshot(topology).alerts
            #expect(alerts.contains { $0.signature == "sqli-union-select" }, "\(alerts.map(\.signature))")
            #expect(alerts.allSatisfy { $0.detector == "signatures" && $0.action == "refuse" })
            #expect(alerts.allSatisfy { $0.source == topology.peerIPv4 && $0.path == "/item" })
            let union = try #require(alerts.first { $0.signature == "sqli-union-select" })
            #expect(union.location == "target")
            #expect(union.evidence.lowercased().hasPrefix("union "), "\(union.evidence)")
            #expect(union.evidence.lowercased().contains("select"), "\(union.evidence)")
            let lines = try alertLines(log)
            #expect(lines.count == alerts.count)
            #expect(lines.contains { ($0["signature"] as? String)?.hasPrefix("sqli-") == true })
            let counted = (try samples(topology)["sidecar_ids_alerts_total"] ?? []).reduce(0) { $0 + $1.value }
            #expect(Int(counted) == alerts.count)
        }
    }

    /// Detect mode relays HTTP/1 as it comes and reads its requests on the side, bodies too.
    @Test func sqlmapPassesAndIsAlertedInDetectMode() async throws {
        try await PodTopology.with { topology in
            try topology.sidecarInit("install")
            try topology.startProxy(
                configuration: "ids: { inbound: { mode: detect, signatures: { inspectBodyBytes: 4096 } } }")
            let shop = try topology.start(
                name: "shop",
                topology.inPod(["/usr/bin/python3", "-B", Binaries.peer, "shop-serve", "--port", "8080"]))
            try shop.waitForOutput("READY")

            // Without time-based blind tests, whose sleeps would only make the run longer once it found the rest.
            let report = try sqlmap(topology, techniques: "BEUS")
            #expect(report.contains("identified the following injection point"), "\(report)")
            #expect(!injectionsSeen(by: shop).isEmpty)
            let alerts = try snapshot(topology).alerts
            #expect(alerts.contains { $0.signature.hasPrefix("sqli-") }, "\(alerts.map(\.signature))")
            #expect(alerts.allSatisfy { $0.action == "alert" })

            // A JSON body's injection reaches the app (which answers 501 to a POST) and is alerted.
            let post = try Shell.run(
                topology.inPeer([
                    "curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "5", "-H",
                    "Content-Type: application/json", "--data", #"{"id":"1; DROP TABLE items"}"#,
                    "http://\(topology.podIPv4):8080/item",
                ]))
            #expect(post.stdout == "501")
            let latest = try #require(try snapshot(topology).alerts.first)
            #expect(latest.signature == "sqli-stacked-query")
            #expect(latest.location == "body")

            // An upgrade the app ignores is no way past the side reader: the request behind it is read and alerted.
            let smuggled = try PeerClient.httpRaw(
                topology.inPeer([]), host: topology.podIPv4, port: 8080,
                "GET /item?id=1 HTTP/1.1\r\nHost: shop\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n"
                    + "GET /item?id=1%20UNION%20SELECT%20name%20FROM%20items HTTP/1.1\r\nHost: shop\r\n\r\n")
            #expect(smuggled.received.contains("<li>kettle</li>"), "\(smuggled.received)")
            let behindUpgrade = try #require(try snapshot(topology).alerts.first)
            #expect(behindUpgrade.signature == "sqli-union-select")
            // Bytes that stop being HTTP are alerted rather than passed over in silence.
            _ = try PeerClient.httpRaw(
                topology.inPeer([]), host: topology.podIPv4, port: 8080,
                "GET /item?id=2 HTTP/1.1\r\nHost: shop\r\n\r\n\u{01}\u{02}\u{03} hello\r\n\r\n")
            let unreadable = try #require(try snapshot(topology).alerts.first)
            #expect(unreadable.signature == "http-unreadable", "\(unreadable)")
            #expect(unreadable.action == "alert")
        }
    }

    /// The app connects to 30 ports of a neighbour: an outbound scan alert with the pod's address as its source.
    /// Outbound findings alert by default; the app's own traffic goes on.
    @Test func anAppScanningItsNeighbourIsAlerted() async throws {
        try await PodTopology.with { topology in
            try topology.sidecarInit("install")
            try topology.startProxy(configuration: "ids: { outbound: { scan: { distinctPorts: 20 } } }")
            try topology.startServer(inPod: false, port: 9000)
            let sweep = try Shell.run(
                topology.inPod([
                    "/usr/bin/python3", "-B", Binaries.peer, "connect-ports", topology.upstreamIPv4, "--first", "9001",
                    "--count", "30",
                ]))
            #expect(sweep.stdout.contains("connected"))

            let alerts = try snapshot(topology).alerts
            let alert = try #require(alerts.first, "no alert")
            #expect(alerts.count == 1)
            #expect(alert.direction == "outbound")
            #expect(alert.source == topology.podIPv4)
            #expect(alert.signature == "scan-ports")
            #expect(alert.action == "alert")
            #expect(alert.evidence.contains("of \(topology.upstreamIPv4)"))
            #expect(try snapshot(topology).blocks.isEmpty)
            #expect(try PeerClient.reaches(topology.inPod([]), host: topology.upstreamIPv4, port: 9000))
        }
    }

    /// Every built-in set, both directions: ordinary requests of curl (query strings, JSON and form bodies),
    /// nghttp (HTTP/2) and a short wrk run raise no alert, and are all answered.
    @Test func ordinaryTrafficRaisesNoAlert() async throws {
        try await PodTopology.with { topology in
            try topology.sidecarInit("install")
            try topology.startProxy(
                configuration: """
                    ids:
                      inbound: { signatures: {}, scan: {}, denials: {} }
                      outbound: { signatures: {}, scan: {}, denials: {} }
                    """)
            try topology.startHTTPServer(port: 9080)
            try topology.startHTTP2Server(port: 9443)
            try topology.startHTTPServer(port: 8080, inPod: true)
            let base = "http://\(topology.upstreamIPv4):9080"
            let requests: [[String]] = [
                ["\(base)/api/v1/users?id=42&sort=name,-created&limit=10"],
                ["\(base)/search?q=rock+and+roll&page=2"],
                ["\(base)/search?q=tom%27s+diner"],
                ["\(base)/calendar?date=2026-12-05T10:00:00Z&tz=Europe/Paris"],
                [
                    "-H", "Content-Type: application/json", "--data",
                    ##"{"name":"Ada","tags":["math","engines"],"note":"it's done; or not","color":"#ff8800"}"##,
                    "\(base)/api/v1/users",
                ],
                ["--data", "name=Ada+Lovelace&email=ada%40example.com&comment=Hello%2C+world%21", "\(base)/form"],
                ["-A", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/119.0", base],
            ]
            for arguments in requests {
                let result = try Shell.run(
                    topology.inPod(
                        ["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "5"] + arguments))
                #expect(result.stdout == "200", "\(arguments)")
            }
            #expect(try get(topology, from: topology.peerIPv4) == 200)
            // Detect mode relays HTTP/1 untouched: the proxy, which adds its span to what it proxies, added none.
            let echoed = try Shell.run(topology.inPod(["curl", "-s", "--max-time", "5", "\(base)/echo?x=1"])).stdout
            #expect(echoed.contains(#""path": "/echo?x=1""#), "\(echoed)")
            #expect(!echoed.contains("traceparent"), "\(echoed)")
            let h2 = "http://\(topology.upstreamIPv4):9443"
            let streams = try Shell.run(
                topology.inPod(["nghttp", "-nv", "--timeout=10", "\(h2)/a?b=c&d=e", "\(h2)/search?q=cats+and+dogs"]))
            #expect(HTTP2Trace(streams.stdout).status(of: "/a?b=c&d=e") == 200)
            let load = try Shell.run(topology.inPod(["wrk", "-t1", "-c4", "-d2s", "\(base)/items?page=1"]))
            #expect(load.stdout.contains("Requests/sec"))
            #expect(!load.stdout.contains("Non-2xx"), "\(load.stdout)")

            let alerts = try snapshot(topology).alerts
            #expect(alerts.isEmpty, "\(alerts)")
            #expect(try samples(topology)["sidecar_ids_alerts_total"] == nil)
        }
    }

    /// With `inspectBodyBytes`, a form or JSON body's first bytes are read before its request is decided. An
    /// injection in a JSON body gets 403 and the app never sees the request; an ordinary body of 1 MiB, far longer
    /// than what is read, reaches it intact; a client that waits for `100 Continue` gets it at once; and an HTTP/2
    /// request's DATA frames are held and read alike.
    @Test func bodiesAreHeldAndRead() async throws {
        try await PodTopology.with { topology in
            try topology.sidecarInit("install")
            try topology.startProxy(
                configuration: """
                    ids:
                      inbound: { mode: prevent, signatures: { inspectBodyBytes: 4096 } }
                      outbound: { mode: prevent, signatures: { inspectBodyBytes: 4096 } }
                    """)
            let app = try topology.startHTTPServer(port: 8080, inPod: true)
            try topology.startHTTP2Server(port: 9443)
            let attack = try topology.writeReadableFile(
                named: "\(topology.pod)-attack.json", #"{"name":"x' UNION SELECT password FROM users--","n":1}"#)
            let ordinary = try topology.writeReadableFile(
                named: "\(topology.pod)-ordinary.json",
                #"{"note":"it's done; or not","data":""# + String(repeating: "a", count: 1 << 20) + #""}"#)
            func post(_ file: String, _ extra: [String] = []) throws -> String {
                try Shell.run(
                    topology.inPeer(
                        [
                            "curl", "-s", "-w", "\n%{http_code} %{time_total}", "--max-time", "20", "-H",
                            "Content-Type: application/json", "--data-binary", "@\(file)",
                        ] + extra + ["http://\(topology.podIPv4):8080/api/items"])
                ).stdout
            }

            let refused = try post(attack)
            #expect(refused.hasPrefix("denied by sidecar policy: rule ids.sqli-union-select"), "\(refused)")
            #expect(refused.split(separator: "\n").last?.hasPrefix("403") == true, "\(refused)")
            #expect(!app.output.contains("POST /api/items"), "the app was handed the request")

            let passed = try post(ordinary)
            let answer = try #require(passed.split(separator: "\n").first.map { Data($0.utf8) })
            let echoed = try JSONSerialization.jsonObject(with: answer) as! [String: Any]
            let sent = try Data(contentsOf: URL(fileURLWithPath: ordinary))
            #expect(echoed["bodyLength"] as? Int == sent.count)
            let digest = try Self.sha256(ordinary)
            #expect(echoed["bodySha256"] as? String == digest)

            // Without the proxy's own `100 Continue`, curl would wait the 15 s it is told to for the app's.
            let continued = try post(ordinary, ["-H", "Expect: 100-continue", "--expect100-timeout", "15"])
            let timing = try #require(continued.split(separator: "\n").last?.split(separator: " "))
            #expect(timing.first == "200")
            #expect((Double(timing.last ?? "") ?? 99) < 5, "\(timing)")

            let h2 = "http://\(topology.upstreamIPv4):9443/api/items"
            let streams = try Shell.run(
                topology.inPod([
                    "nghttp", "-nv", "--timeout=10", "-H", "content-type: application/json", "-d", attack, h2,
                ]))
            #expect(HTTP2Trace(streams.stdout).status(of: "/api/items") == 403, "\(streams.stdout)")
            let small = try topology.writeReadableFile(named: "\(topology.pod)-small.json", #"{"q":"cats and dogs"}"#)
            let allowed = try Shell.run(
                topology.inPod([
                    "nghttp", "-nv", "--timeout=10", "-H", "content-type: application/json", "-d", small, h2,
                ]))
            #expect(HTTP2Trace(allowed.stdout).status(of: "/api/items") == 200, "\(allowed.stdout)")

            let alerts = try snapshot(topology).alerts
            #expect(alerts.count == 2, "\(alerts)")
            #expect(alerts.allSatisfy { $0.location == "body" && $0.signature == "sqli-union-select" })
            #expect(Set(alerts.map(\.direction)) == ["inbound", "outbound"])
        }
    }

    static func sha256(_ path: String) throws -> String {
        try Shell.run(["sha256sum", path]).stdout.split(separator: " ").first.map(String.init) ?? ""
    }
}
