import Foundation
import Synchronization

/// Where the proxy reports what it does, once per connection, request, denial and reload: into the metrics, the
/// access log and the statistics `/stats` serves. Never called per chunk of data.
public final class TrafficRecorder: Sendable {
    public let metrics: ProxyMetrics
    /// Starts each HTTP request's trace (and its span, when spans are exported).
    public let tracer: RequestTracer
    private let accessLog: AccessLog?
    private let statistics = Mutex(Tally())

    /// How many denials `/stats` keeps, and how many destinations it counts (the rest are not ranked).
    static let keptDenials = 20
    static let countedDestinations = 1000

    private struct Tally {
        var traffic = TrafficStatistics()
        var perDestination: [String: Int] = [:]
    }

    /// - Parameter accessLog: nil turns the access log off.
    public init(metrics: ProxyMetrics = ProxyMetrics(), tracer: RequestTracer = .propagating, accessLog: AccessLog?) {
        self.metrics = metrics
        self.tracer = tracer
        self.accessLog = accessLog
    }

    public func connectionOpened(direction: String) {
        metrics.connectionOpened(direction: direction)
        statistics.withLock { tally in
            tally.traffic.activeConnections[direction, default: 0] += 1
            tally.traffic.totalConnections[direction, default: 0] += 1
        }
    }

    /// A connection ended, to the `destination` it was headed for, secured as `tls` says (`mtls`, `passthrough` or
    /// `plaintext`). `entry`, its access log line, is built only when the access log is on.
    public func connectionClosed(
        direction: String, destination: String, tls: String, outcome: ConnectionOutcome, bytesReceived: Int,
        bytesSent: Int, entry: () -> AccessLogEntry
    ) {
        metrics.connectionClosed(
            direction: direction, destination: destination, tls: tls, outcome: outcome, fromClient: bytesReceived,
            toClient: bytesSent)
        statistics.withLock { tally in
            tally.traffic.activeConnections[direction, default: 1] -= 1
            tally.traffic.connectionsByTLS[direction, default: [:]][tls, default: 0] += 1
            if tally.perDestination[destination] != nil || tally.perDestination.count < Self.countedDestinations {
                tally.perDestination[destination, default: 0] += 1
            }
        }
        log(entry())
    }

    /// A connection ended on an error of this kind (a bounded set of words: `reset`, `timeout`, …).
    public func connectionFailed(direction: String, error: String) {
        metrics.connectionFailed(direction: direction, error: error)
    }

    /// An upstream pool took in a connection (`holds`) or let one go (`protocol`: `http1` or `http2`).
    public func upstreamPoolChanged(protocol: String, holds: Bool) {
        metrics.upstreamPoolChanged(protocol: `protocol`, holds: holds)
    }

    /// A request or stream went on a connection a pool already held.
    public func upstreamPoolReused(protocol: String) {
        metrics.upstreamPoolReused(protocol: `protocol`)
    }

    /// A request went upstream again (`reason`: `unprocessed`, the server never processed it; `failed`, an endpoint
    /// of a service failed it).
    public func requestResent(because reason: String) {
        metrics.requestResent(because: reason)
    }

    public func upstreamConnected(direction: String, after duration: Duration) {
        metrics.upstreamConnected(direction: direction, after: duration)
    }

    /// An HTTP request got its response (or the proxy's own; `status` is nil for a reset). `entry`, its access log
    /// line, is built only when the access log is on.
    public func requestCompleted(
        direction: String, method: String, status: Int?, duration: Duration, entry: () -> AccessLogEntry
    ) {
        metrics.requestCompleted(direction: direction, method: method, status: status, duration: duration)
        log(entry())
    }

    /// A DNS query the DNS proxy answered (or dropped). `entry`, its access log line, is built only when the access
    /// log is on.
    public func dnsQueryAnswered(outcome: String, type: String, duration: Duration, entry: () -> AccessLogEntry) {
        metrics.dnsQueryAnswered(outcome: outcome, type: type, duration: duration)
        log(entry())
    }

    /// Queues the access log line; one the queue cannot take is counted as dropped. The line is built only when the
    /// access log is on: its addresses and times are formatting work every connection and request would pay otherwise.
    private func log(_ entry: @autoclosure () -> AccessLogEntry) {
        if let accessLog, !accessLog.write(entry()) { metrics.accessLogLineDropped() }
    }

    /// A connection or request denied by policy.
    public func denied(direction: String, source: String, destination: String, request: String?, rule: String) {
        metrics.denied(direction: direction, rule: rule)
        let denial = TrafficStatistics.Denial(
            time: AccessLogTime(Date()).text, direction: direction, source: source, destination: destination,
            request: request, rule: rule)
        statistics.withLock { tally in
            tally.traffic.recentDenials.insert(denial, at: 0)
            if tally.traffic.recentDenials.count > Self.keptDenials { tally.traffic.recentDenials.removeLast() }
        }
    }

    /// A connection from a source intrusion detection blocks was reset at accept: counted as a denial by rule
    /// `ids.block`, but not kept among the recent denials, which a scanner would otherwise fill.
    public func blockedSourceRefused(direction: String) {
        metrics.denied(direction: direction, rule: "ids.block")
    }

    /// An intrusion alert (`entry.kind` is `alert`): counted, and written to the access log.
    public func alerted(_ entry: AccessLogEntry) {
        metrics.alerted(
            detector: entry.detector ?? "unknown", signature: entry.signature ?? "unknown", direction: entry.direction)
        log(entry)
    }

    public func reloaded(applied: Bool) {
        metrics.reloaded(applied: applied)
    }

    /// New identity files were put in force (`applied`) or refused, the identity in force serving on.
    public func identityReloaded(applied: Bool) {
        metrics.identityReloaded(applied: applied)
    }

    /// The identity in force, from start and after each renewal.
    public func identityInForce(validUntil: Date) {
        metrics.identityInForce(validUntil: validUntil)
    }

    /// An active health check of `endpoint` of `service` ended; `inRotation` is what it left the endpoint as.
    public func healthChecked(service: String, endpoint: String, healthy: Bool, inRotation: Bool) {
        metrics.healthChecked(service: service, endpoint: endpoint, healthy: healthy, inRotation: inRotation)
    }

    /// A mesh handshake ended: `result` is `ok` or why it failed (a bounded set of words).
    public func meshHandshake(direction: String, result: String, after duration: Duration) {
        metrics.meshHandshake(direction: direction, result: result, duration: duration)
    }

    /// The statistics now, with the ten busiest destinations.
    public func snapshot() -> TrafficStatistics {
        statistics.withLock { tally in
            var traffic = tally.traffic
            traffic.topDestinations = tally.perDestination.sorted { ($0.value, $1.key) > ($1.value, $0.key) }
                .prefix(10).map { TrafficStatistics.Destination(destination: $0.key, connections: $0.value) }
            return traffic
        }
    }
}
