import Foundation
import Testing

/// With an OTLP endpoint, each HTTP request's span reaches a collector in the peer: the client's trace goes on,
/// the span is the one the upstream saw as its parent, and it says what became of the request.
@Suite struct SpanExportTests {
    static let clientTraceID = "4bf92f3577b34da6a3ce929d0e0e4736"
    static let clientSpanID = "00f067aa0ba902b7"

    @Test func spansAreExportedAsJSON() async throws {
        try await PodTopology.with { topology in
            let (exports, upstreamParent) = try exchange(in: topology, encoding: "http/json")
            let spans = try #require(
                try waitForSpans(exports) { $0.count >= 2 }, "the collector saw: \(exports.output)")
            let resource = try exportedDocuments(exports).first?["resourceSpans"] as? [[String: Any]]
            let resourceAttributes = (resource?.first?["resource"] as? [String: Any])?["attributes"] ?? []
            #expect(Self.attributes(resourceAttributes)["service.name"] == "sidecar-proxy")

            let allowed = try #require(spans.first { $0.attributes["url.path"] == "/a" })
            #expect(allowed.traceID == Self.clientTraceID)
            #expect(allowed.parentSpanID == Self.clientSpanID)
            #expect(allowed.spanID == upstreamParent, "the upstream's parent is the exported span")
            #expect(allowed.name == "GET" && allowed.kind == 3, "an outbound request is a client span")
            #expect(allowed.attributes["http.response.status_code"] == "200")
            #expect(allowed.attributes["sidecar.outcome"] == "answered")

            let denied = try #require(spans.first { $0.attributes["url.path"] == "/admin/users" })
            #expect(denied.traceID != Self.clientTraceID, "a request without traceparent starts a trace")
            #expect(denied.parentSpanID == nil)
            #expect(denied.attributes["http.response.status_code"] == "403")
            #expect(denied.attributes["sidecar.policy.rule"] == "no-admin")
            #expect(denied.attributes["sidecar.outcome"] == "denied")
        }
    }

    /// The default encoding: the payload is protobuf, read here only as far as the ids it must carry.
    @Test func spansAreExportedAsProtobuf() async throws {
        try await PodTopology.with { topology in
            let (exports, upstreamParent) = try exchange(in: topology, encoding: nil)
            var payload = Data()
            for _ in 0..<100 {
                payload = try exportedBodies(exports, contentType: "application/x-protobuf").reduce(Data(), +)
                if payload.range(of: Data("/admin/users".utf8)) != nil { break }
                usleep(100_000)
            }
            #expect(payload.range(of: Self.bytes(hex: Self.clientTraceID)) != nil, "\(exports.output)")
            #expect(payload.range(of: Self.bytes(hex: Self.clientSpanID)) != nil)
            #expect(payload.range(of: Self.bytes(hex: upstreamParent)) != nil)
            #expect(payload.range(of: Data("no-admin".utf8)) != nil)
        }
    }

    /// Runs a proxy exporting to a collector in the peer, and sends one allowed request carrying the client's trace
    /// and one denied request without any. Returns the collector and the span id the upstream saw as its parent.
    private func exchange(in topology: PodTopology, encoding: String?) throws -> (BackgroundProcess, String) {
        try topology.sidecarInit("install")
        let collector = try topology.startOTLPCollector(port: 4318)
        try topology.startHTTPServer(port: 9080)
        try topology.startProxy(
            configuration: """
                policy: { outbound: { rules: [ { name: no-admin, action: deny, http: { pathPrefix: /admin } } ] } }
                """,
            arguments: ["--otlp-endpoint", "http://\(topology.upstreamIPv4):4318"]
                + (encoding.map { ["--otlp-protocol", $0] } ?? []),
            environment: ["OTEL_BSP_SCHEDULE_DELAY": "100"])
        let exchange = try PeerClient.httpRaw(
            topology.inPod([]), host: topology.upstreamIPv4, port: 9080,
            "GET /a HTTP/1.1\r\nHost: a\r\ntraceparent: 00-\(Self.clientTraceID)-\(Self.clientSpanID)-01\r\n\r\n"
                + "GET /admin/users HTTP/1.1\r\nHost: a\r\n\r\n")
        let seen = try #require(
            exchange.received.components(separatedBy: "\"traceparent\": \"").dropFirst().first.map {
                String($0.prefix(55))
            }, "\(exchange.received)")
        #expect(seen.hasPrefix("00-\(Self.clientTraceID)-"))
        #expect(exchange.received.contains("403"))
        return (collector, String(seen.dropFirst(36).prefix(16)))
    }

    struct ExportedSpan {
        var traceID: String
        var spanID: String
        var parentSpanID: String?
        var name: String
        var kind: Int
        var attributes: [String: String]
    }

    /// The spans exported so far, read again until `complete` holds (the batch goes out every 100 ms) or ten
    /// seconds pass.
    private func waitForSpans(_ collector: BackgroundProcess, until complete: ([ExportedSpan]) -> Bool) throws
        -> [ExportedSpan]?
    {
        for _ in 0..<100 {
            let spans = try exportedDocuments(collector).flatMap(Self.spans)
            if complete(spans) { return spans }
            usleep(100_000)
        }
        return nil
    }

    private func exportedBodies(_ collector: BackgroundProcess, contentType: String) throws -> [Data] {
        try collector.output.split(separator: "\n").filter { $0.hasPrefix("{") }.compactMap { line in
            let export = try JSONSerialization.jsonObject(with: Data(line.utf8)) as! [String: Any]
            #expect(export["path"] as? String == "/v1/traces")
            #expect(export["contentType"] as? String == contentType)
            return Data(base64Encoded: export["body"] as! String)
        }
    }

    private func exportedDocuments(_ collector: BackgroundProcess) throws -> [[String: Any]] {
        try exportedBodies(collector, contentType: "application/json").map {
            try JSONSerialization.jsonObject(with: $0) as! [String: Any]
        }
    }

    /// OTLP/JSON's `resourceSpans[].scopeSpans[].spans[]`.
    private static func spans(in document: [String: Any]) -> [ExportedSpan] {
        let resourceSpans = document["resourceSpans"] as? [[String: Any]] ?? []
        let scopeSpans = resourceSpans.flatMap { $0["scopeSpans"] as? [[String: Any]] ?? [] }
        return scopeSpans.flatMap { $0["spans"] as? [[String: Any]] ?? [] }.map { span in
            ExportedSpan(
                traceID: hex(span["traceId"]), spanID: hex(span["spanId"]),
                parentSpanID: (span["parentSpanId"] as? String).flatMap { $0.isEmpty ? nil : hex($0) },
                name: span["name"] as? String ?? "", kind: span["kind"] as? Int ?? 0,
                attributes: attributes(span["attributes"] ?? []))
        }
    }

    /// OTLP/JSON attributes as text: `{key, value: {stringValue | intValue | ...}}`.
    private static func attributes(_ list: Any) -> [String: String] {
        var attributes: [String: String] = [:]
        for attribute in list as? [[String: Any]] ?? [] {
            guard let key = attribute["key"] as? String, let value = attribute["value"] as? [String: Any],
                let scalar = value.values.first
            else { continue }
            attributes[key] = "\(scalar)"
        }
        return attributes
    }

    /// The specification writes ids in hex; protobuf's JSON mapping writes bytes in base64. Either reads here.
    private static func hex(_ id: Any?) -> String {
        guard let text = id as? String else { return "" }
        if text.count == 32 || text.count == 16, text.allSatisfy(\.isHexDigit) { return text.lowercased() }
        return Data(base64Encoded: text).map { $0.map { String(format: "%02x", $0) }.joined() } ?? text
    }

    private static func bytes(hex: String) -> Data {
        var data = Data()
        var index = hex.startIndex
        while index < hex.endIndex {
            let next = hex.index(index, offsetBy: 2)
            data.append(UInt8(hex[index..<next], radix: 16)!)
            index = next
        }
        return data
    }
}
