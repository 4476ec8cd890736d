/// What one health check sends and what it takes for healthy: the app probes the proxy runs for the kubelet and
/// the active checks of a service's endpoints are the same three checks.
public enum HealthCheck: Sendable, Hashable {
    /// `GET path`; healthy when the status is in `expectedStatuses`.
    case http(HTTPHealthCheck)
    /// Healthy when a connection opens.
    case tcp
    /// `grpc.health.v1.Health/Check` over HTTP/2 without TLS; healthy when the answer is `SERVING`.
    case grpc(service: String)

    /// The kubelet's notion of success for HTTP probes.
    public static let kubeletStatuses: [ClosedRange<Int>] = [200...399]
}
