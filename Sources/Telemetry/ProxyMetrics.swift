import Foundation
import Metrics
import Prometheus
import Synchronization

/// The proxy's metrics, through swift-metrics into a Prometheus registry served at `/metrics` on the telemetry and
/// admin ports. Names follow Prometheus conventions and start with `sidecar_`. Everything is recorded once per
/// connection, request or reload, at its end, never per chunk of data.
public final class ProxyMetrics: Sendable {
    public let registry: PrometheusCollectorRegistry
    private let factory: PrometheusMetricsFactory
    /// The destinations given a label of their own so far; beyond `destinationCap`, the rest share `other`, so a
    /// pod that calls many addresses cannot grow the series without bound.
    private let labelledDestinations = Mutex<Set<String>>([])
    /// Handles made so far, by series: making one asks the factory, which takes the registry's lock and builds its
    /// key, several times per connection otherwise. The label values are bounded, and so is this.
    private let handles = Mutex<[Series: any AnyObject & Sendable]>([:])

    /// One label name and its value.
    private typealias Dimension = (name: String, value: String)

    /// A metric's name and its label values (each name has its own label names, in a fixed order). At most three
    /// values, held inline, so that finding a handle builds no array on the way.
    private struct Series: Hashable {
        let label: String
        let first: String?
        let second: String?
        let third: String?
    }

    public static let destinationCap = 100

    public init() {
        registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.defaultDurationHistogramBuckets = [
            .microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10),
            .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500),
            .seconds(1), .seconds(2), .seconds(5), .seconds(10),
        ]
        self.factory = factory
    }

    /// The Prometheus text exposition of every series.
    public func exposition() -> String {
        registry.emitToString()
    }

    /// The upstream pools took in a connection (`holds`) or let one go: HTTP/1.1 connections waiting for a request,
    /// shared HTTP/2 connections taking new streams.
    func upstreamPoolChanged(protocol: String, holds: Bool) {
        let meter = meter("sidecar_upstream_pool_connections", ("protocol", `protocol`))
        if holds { meter.increment() } else { meter.decrement() }
    }

    /// A request (HTTP/1.1) or stream (HTTP/2) went on a connection a pool already held instead of a new one.
    func upstreamPoolReused(protocol: String) {
        counter("sidecar_upstream_pool_reused_total", ("protocol", `protocol`)).increment()
    }

    /// A request went upstream again: `unprocessed` (the server never processed it: a refused stream, a pooled
    /// connection closed as it crossed) or `failed` (to another endpoint of a service, after a 502, 503 or reset).
    func requestResent(because reason: String) {
        counter("sidecar_upstream_requests_resent_total", ("reason", reason)).increment()
    }

    func connectionOpened(direction: String) {
        counter("sidecar_connections_opened_total", ("direction", direction)).increment()
        meter("sidecar_connections_active", ("direction", direction)).increment()
    }

    func connectionClosed(
        direction: String, destination: String, tls: String, outcome: ConnectionOutcome, fromClient: Int,
        toClient: Int
    ) {
        counter(
            "sidecar_connections_closed_total", ("direction", direction),
            ("destination", destinationLabel(destination)), ("outcome", outcome.rawValue)
        ).increment()
        counter("sidecar_connections_by_tls_total", ("direction", direction), ("tls", tls)).increment()
        meter("sidecar_connections_active", ("direction", direction)).decrement()
        if fromClient > 0 {
            counter("sidecar_bytes_total", ("direction", direction), ("flow", "client_to_upstream"))
                .increment(by: fromClient)
        }
        if toClient > 0 {
            counter("sidecar_bytes_total", ("direction", direction), ("flow", "upstream_to_client"))
                .increment(by: toClient)
        }
    }

    func upstreamConnected(direction: String, after duration: Duration) {
        timer("sidecar_upstream_connect_duration_seconds", ("direction", direction)).record(duration: duration)
    }

    /// - Parameter status: nil when the request ended without a response (reset).
    func requestCompleted(direction: String, method: String, status: Int?, duration: Duration) {
        counter(
            "sidecar_http_requests_total", ("direction", direction), ("method", Self.methodClass(method)),
            ("status", status.map { "\($0 / 100)xx" } ?? "none")
        ).increment()
        timer("sidecar_http_request_duration_seconds", ("direction", direction)).record(duration: duration)
    }

    /// - Parameter outcome: `forwarded`, `cached`, `denied`, `failed` or `malformed`.
    func dnsQueryAnswered(outcome: String, type: String, duration: Duration) {
        counter("sidecar_dns_queries_total", ("outcome", outcome), ("type", Self.queryTypeClass(type))).increment()
        timer("sidecar_dns_query_duration_seconds", ("outcome", outcome)).record(duration: duration)
    }

    /// Query types beyond the common ones share `other`, so a client cannot make series without bound.
    static func queryTypeClass(_ type: String) -> String {
        ["A", "AAAA", "CNAME", "PTR", "SRV", "TXT", "MX", "NS", "SOA", "HTTPS"].contains(type) ? type : "other"
    }

    func denied(direction: String, rule: String) {
        counter("sidecar_policy_denials_total", ("direction", direction), ("rule", rule)).increment()
    }

    /// An intrusion alert. Signature ids come from the configuration, so the series are bounded.
    func alerted(detector: String, signature: String, direction: String) {
        counter(
            "sidecar_ids_alerts_total", ("detector", detector), ("signature", signature), ("direction", direction)
        ).increment()
    }

    /// - Parameter result: `ok`, or the failure's reason (`tls`, `svid`, `peer`, `timeout`, …).
    func meshHandshake(direction: String, result: String, duration: Duration) {
        counter("sidecar_mesh_handshakes_total", ("direction", direction), ("result", result)).increment()
        timer("sidecar_mesh_handshake_duration_seconds", ("direction", direction)).record(duration: duration)
    }

    func reloaded(applied: Bool) {
        counter("sidecar_config_reloads_total", ("result", applied ? "applied" : "refused")).increment()
    }

    func identityReloaded(applied: Bool) {
        counter("sidecar_identity_reloads_total", ("result", applied ? "applied" : "refused")).increment()
    }

    /// Our certificate's expiry (Unix seconds), for an alert before peers start refusing it.
    func identityInForce(validUntil: Date) {
        gauge("sidecar_identity_expiry_timestamp_seconds").record(validUntil.timeIntervalSince1970)
    }

    /// One active health check of a service's endpoint, and whether the endpoint is in rotation after it. The labels
    /// come from the configuration and what its names resolve to; the series of an endpoint that left stays at its
    /// last value until the proxy restarts.
    func healthChecked(service: String, endpoint: String, healthy: Bool, inRotation: Bool) {
        counter("sidecar_health_checks_total", ("service", service), ("result", healthy ? "healthy" : "unhealthy"))
            .increment()
        cached("sidecar_service_endpoint_healthy", ("service", service), ("endpoint", endpoint), nil) {
            Metrics.Gauge(label: "sidecar_service_endpoint_healthy", dimensions: $0, factory: factory)
        }.record(inRotation ? 1 : 0)
    }

    func accessLogLineDropped() {
        counter("sidecar_access_log_dropped_total").increment()
    }

    /// A line the access log's output refused.
    public func accessLogWriteFailed() {
        counter("sidecar_access_log_write_failures_total").increment()
    }

    /// A connection that ended on an error (a reset, a broken pipe, an unparseable stream), by kind.
    func connectionFailed(direction: String, error: String) {
        counter("sidecar_connection_errors_total", ("direction", direction), ("error", error)).increment()
    }

    private func destinationLabel(_ destination: String) -> String {
        labelledDestinations.withLock { seen in
            if seen.contains(destination) { return destination }
            guard seen.count < Self.destinationCap else { return "other" }
            seen.insert(destination)
            return destination
        }
    }

    private func cached<Metric: AnyObject & Sendable>(
        _ label: String, _ a: Dimension?, _ b: Dimension?, _ c: Dimension?, make: ([(String, String)]) -> Metric
    ) -> Metric {
        let series = Series(label: label, first: a?.value, second: b?.value, third: c?.value)
        return handles.withLock { handles in
            if let metric = handles[series] as? Metric { return metric }
            let metric = make([a, b, c].compactMap { $0.map { ($0.name, $0.value) } })
            handles[series] = metric
            return metric
        }
    }

    private func counter(
        _ label: String, _ a: Dimension? = nil, _ b: Dimension? = nil, _ c: Dimension? = nil
    ) -> Metrics.Counter {
        cached(label, a, b, c) { Metrics.Counter(label: label, dimensions: $0, factory: factory) }
    }

    private func gauge(_ label: String) -> Metrics.Gauge {
        cached(label, nil, nil, nil) { Metrics.Gauge(label: label, dimensions: $0, factory: factory) }
    }

    private func meter(_ label: String, _ a: Dimension) -> Metrics.Meter {
        cached(label, a, nil, nil) { Metrics.Meter(label: label, dimensions: $0, factory: factory) }
    }

    private func timer(_ label: String, _ a: Dimension) -> Metrics.Timer {
        cached(label, a, nil, nil) { Metrics.Timer(label: label, dimensions: $0, factory: factory) }
    }

    /// Methods as a bounded set of label values: the standard ones, and `other`.
    static func methodClass(_ method: String) -> String {
        switch method {
        case "GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "CONNECT", "TRACE": method
        default: "other"
        }
    }
}

extension Timer {
    fileprivate func record(duration: Duration) {
        let (seconds, attoseconds) = duration.components
        recordNanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }
}
