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

    func connectionOpened(direction: String) {
        Counter(label: "sidecar_connections_opened_total", dimensions: [("direction", direction)], factory: factory)
            .increment()
        Meter(label: "sidecar_connections_active", dimensions: [("direction", direction)], factory: factory)
            .increment()
    }

    func connectionClosed(
        direction: String, destination: String, outcome: ConnectionOutcome, fromClient: Int, toClient: Int
    ) {
        Counter(
            label: "sidecar_connections_closed_total",
            dimensions: [
                ("direction", direction), ("destination", destinationLabel(destination)),
                ("outcome", outcome.rawValue),
            ], factory: factory
        ).increment()
        Meter(label: "sidecar_connections_active", dimensions: [("direction", direction)], factory: factory)
            .decrement()
        for (flow, bytes) in [("client_to_upstream", fromClient), ("upstream_to_client", toClient)] where bytes > 0 {
            Counter(
                label: "sidecar_bytes_total", dimensions: [("direction", direction), ("flow", flow)],
                factory: factory
            ).increment(by: bytes)
        }
    }

    func upstreamConnected(direction: String, after duration: Duration) {
        Timer(
            label: "sidecar_upstream_connect_duration_seconds", dimensions: [("direction", direction)],
            factory: factory
        ).record(duration: duration)
    }

    /// - Parameter status: nil when the request ended without a response (reset).
    func requestCompleted(direction: String, method: String, status: Int?, duration: Duration) {
        Counter(
            label: "sidecar_http_requests_total",
            dimensions: [
                ("direction", direction), ("method", Self.methodClass(method)),
                ("status", status.map { "\($0 / 100)xx" } ?? "none"),
            ], factory: factory
        ).increment()
        Timer(
            label: "sidecar_http_request_duration_seconds", dimensions: [("direction", direction)], factory: factory
        ).record(duration: duration)
    }

    /// - Parameter outcome: `forwarded`, `cached`, `denied`, `failed` or `malformed`.
    func dnsQueryAnswered(outcome: String, type: String, duration: Duration) {
        Counter(
            label: "sidecar_dns_queries_total",
            dimensions: [("outcome", outcome), ("type", Self.queryTypeClass(type))],
            factory: factory
        ).increment()
        Timer(label: "sidecar_dns_query_duration_seconds", dimensions: [("outcome", outcome)], factory: factory)
            .record(duration: duration)
    }

    /// Query types beyond the common ones share `other`, so a client cannot make series without bound.
    static func queryTypeClass(_ type: String) -> String {
        ["A", "AAAA", "CNAME", "PTR", "SRV", "TXT", "MX", "NS", "SOA", "HTTPS"].contains(type) ? type : "other"
    }

    func denied(direction: String, rule: String) {
        Counter(
            label: "sidecar_policy_denials_total", dimensions: [("direction", direction), ("rule", rule)],
            factory: factory
        ).increment()
    }

    func reloaded(applied: Bool) {
        Counter(
            label: "sidecar_config_reloads_total", dimensions: [("result", applied ? "applied" : "refused")],
            factory: factory
        ).increment()
    }

    func accessLogLineDropped() {
        Counter(label: "sidecar_access_log_dropped_total", factory: factory).increment()
    }

    private func destinationLabel(_ destination: String) -> String {
        labelledDestinations.withLock { seen in
            if seen.contains(destination) { return destination }
            guard seen.count < Self.destinationCap else { return "other" }
            seen.insert(destination)
            return destination
        }
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
