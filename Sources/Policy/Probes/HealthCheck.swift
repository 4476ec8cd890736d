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

public struct HTTPHealthCheck: Sendable, Hashable {
    public var path: String
    /// HTTPS, unverified (the kubelet does not verify it either).
    public var tls: Bool
    /// The `Host` header; nil sends `HOST:PORT` of the address dialled.
    public var host: String?
    public var headers: [AppProbe.HTTPHeader]
    public var expectedStatuses: [ClosedRange<Int>]

    public init(
        path: String, tls: Bool = false, host: String? = nil, headers: [AppProbe.HTTPHeader] = [],
        expectedStatuses: [ClosedRange<Int>]
    ) {
        self.path = path
        self.tls = tls
        self.host = host
        self.headers = headers
        self.expectedStatuses = expectedStatuses
    }

    public func expects(_ status: Int) -> Bool {
        expectedStatuses.contains { $0.contains(status) }
    }
}

extension AppProbe {
    /// The check this probe asks for, the port it asks it on, and the host when the probe names one (else the
    /// pod's address, as the kubelet would dial).
    public var healthCheck: (check: HealthCheck, port: Int, host: String?) {
        if let httpGet {
            let hostHeader = httpGet.httpHeaders?.last { $0.name.lowercased() == "host" }?.value
            let check = HTTPHealthCheck(
                path: httpGet.path ?? "/", tls: httpGet.scheme == "HTTPS", host: hostHeader,
                headers: httpGet.httpHeaders?.filter { $0.name.lowercased() != "host" } ?? [],
                expectedStatuses: HealthCheck.kubeletStatuses)
            return (.http(check), httpGet.port, httpGet.host)
        }
        if let grpc { return (.grpc(service: grpc.service ?? ""), grpc.port, nil) }
        return (.tcp, tcpSocket?.port ?? 0, tcpSocket?.host)
    }
}
