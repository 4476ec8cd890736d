import Foundation
import Testing

@testable import Telemetry

/// What the recorder makes of known events: metric series with bounded labels, and the statistics `/stats` serves.
@Suite struct TrafficRecorderTests {
    func close(
        _ recorder: TrafficRecorder, _ destination: String, direction: String = "outbound", received: Int = 0
    ) {
        recorder.connectionClosed(
            direction: direction, destination: destination, tls: "plaintext", outcome: .forwarded,
            bytesReceived: received, bytesSent: 0
        ) {
            var entry = AccessLogEntry(
                kind: .connection, start: AccessLogTime(Date(timeIntervalSince1970: 1_767_225_600)), durationMs: 1,
                direction: direction, source: "10.0.0.2:40000")
            entry.destination = destination
            entry.bytesReceived = received
            return entry
        }
    }

    @Test func destinationsBeyondTheCapShareOneLabel() {
        let recorder = TrafficRecorder(accessLog: nil)
        for index in 0..<(ProxyMetrics.destinationCap + 5) {
            recorder.connectionOpened(direction: "outbound")
            close(recorder, "10.0.\(index / 256).\(index % 256):80")
        }
        let text = recorder.metrics.exposition()
        let series = text.split(separator: "\n").filter { $0.hasPrefix("sidecar_connections_closed_total{") }
        #expect(series.count == ProxyMetrics.destinationCap + 1)
        #expect(
            text.contains(
                #"sidecar_connections_closed_total{direction="outbound",destination="other",outcome="forwarded"} 5"#))
        #expect(text.contains(#"sidecar_connections_active{direction="outbound"} 0"#))
    }

    @Test func bytesAndRequestsAreCounted() {
        let recorder = TrafficRecorder(accessLog: nil)
        recorder.connectionOpened(direction: "inbound")
        close(recorder, "10.0.0.2:8080", direction: "inbound", received: 1234)
        recorder.requestCompleted(direction: "inbound", method: "BREW", status: 418, duration: .milliseconds(3)) {
            AccessLogEntry(
                kind: .request, start: AccessLogTime(Date(timeIntervalSince1970: 1_767_225_600)), durationMs: 1,
                direction: "inbound", source: "10.0.0.1:5000")
        }
        let text = recorder.metrics.exposition()
        #expect(text.contains(#"sidecar_bytes_total{direction="inbound",flow="client_to_upstream"} 1234"#))
        #expect(text.contains(#"sidecar_http_requests_total{direction="inbound",method="other",status="4xx"} 1"#))
        #expect(text.contains(#"sidecar_http_request_duration_seconds_count{direction="inbound"} 1"#))
    }

    @Test func statisticsRankDestinationsAndKeepTheLatestDenials() {
        let recorder = TrafficRecorder(accessLog: nil)
        for (destination, count) in [("a:1", 1), ("b:2", 3), ("c:3", 2)] {
            for _ in 0..<count {
                recorder.connectionOpened(direction: "outbound")
                close(recorder, destination)
            }
        }
        for index in 0..<(TrafficRecorder.keptDenials + 3) {
            recorder.denied(
                direction: "outbound", source: "s", destination: "d", request: nil, rule: "rule-\(index)")
        }
        let snapshot = recorder.snapshot()
        #expect(snapshot.topDestinations.map(\.destination) == ["b:2", "c:3", "a:1"])
        #expect(snapshot.totalConnections == ["outbound": 6])
        #expect(snapshot.activeConnections == ["outbound": 0])
        #expect(snapshot.recentDenials.count == TrafficRecorder.keptDenials)
        #expect(snapshot.recentDenials.first?.rule == "rule-\(TrafficRecorder.keptDenials + 2)")
    }

    @Test func timestampsAreRFC3339UTCWithMilliseconds() {
        #expect(AccessLogTime(Date(timeIntervalSince1970: 1_800_000_000.5)).text == "2027-01-15T08:00:00.500Z")
    }
}

/// The access log queues lines for its own task: a full queue drops (and says so) instead of holding more.
@Suite struct AccessLogTests {
    @Test func aFullQueueDropsLines() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("access-\(getpid()).log").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let log = try AccessLog(path: path)
        let entry = AccessLogEntry(
            kind: .connection, start: AccessLogTime(Date(timeIntervalSince1970: 1_767_225_600)), durationMs: 1,
            direction: "outbound", source: "s")
        for _ in 0..<AccessLog.queueLimit { #expect(log.write(entry)) }
        #expect(!log.write(entry))
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        #expect(attributes[.posixPermissions] as? Int == 0o644)
    }
}
