/// One of the app's own kubelet probes, as `sidecar-inject` took it out of the pod spec, for the proxy to run
/// against the app: the kubelet now asks the proxy, which can reach the app uncaptured and without mutual TLS.
/// Its JSON is the Kubernetes probe's own shape (`httpGet`, `tcpSocket`, `grpc`, `timeoutSeconds`), with named
/// ports already resolved to numbers.
public struct AppProbe: Sendable, Hashable, Codable {
    public struct HTTPHeader: Sendable, Hashable, Codable {
        public var name: String
        public var value: String

        public init(name: String, value: String) {
            self.name = name
            self.value = value
        }
    }

    public struct HTTPGet: Sendable, Hashable, Codable {
        public var path: String?
        public var port: Int
        /// Absent: the pod's own address, as the kubelet would use.
        public var host: String?
        /// `HTTP` or `HTTPS`; HTTPS is not verified, as the kubelet does not verify it.
        public var scheme: String?
        public var httpHeaders: [HTTPHeader]?

        public init(
            path: String? = nil, port: Int, host: String? = nil, scheme: String? = nil,
            httpHeaders: [HTTPHeader]? = nil
        ) {
            self.path = path
            self.port = port
            self.host = host
            self.scheme = scheme
            self.httpHeaders = httpHeaders
        }
    }

    public struct TCPSocket: Sendable, Hashable, Codable {
        public var port: Int
        public var host: String?

        public init(port: Int, host: String? = nil) {
            self.port = port
            self.host = host
        }
    }

    public struct GRPC: Sendable, Hashable, Codable {
        public var port: Int
        /// The `service` of `grpc.health.v1.HealthCheckRequest`; absent or empty asks about the server as a whole.
        public var service: String?

        public init(port: Int, service: String? = nil) {
            self.port = port
            self.service = service
        }
    }

    public var httpGet: HTTPGet?
    public var tcpSocket: TCPSocket?
    public var grpc: GRPC?
    /// The kubelet's default is one second.
    public var timeoutSeconds: Int?

    public init(httpGet: HTTPGet? = nil, tcpSocket: TCPSocket? = nil, grpc: GRPC? = nil, timeoutSeconds: Int? = nil) {
        self.httpGet = httpGet
        self.tcpSocket = tcpSocket
        self.grpc = grpc
        self.timeoutSeconds = timeoutSeconds
    }

    /// How long the check may take before it counts as failed.
    public var timeout: Duration { .seconds(timeoutSeconds ?? 1) }
}
