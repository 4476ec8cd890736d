import Interception

/// A virtual address the app dials (`services:` in the configuration), balanced over real endpoints. The app
/// keeps dialing one stable address; which endpoint serves each connection, and which are left out for failing, is
/// the proxy's choice.
public struct ServiceDefinition: Sendable, Hashable {
    public var name: String
    /// The virtual address: outbound connections whose original destination is this are the service's.
    public var address: IPNetwork
    public var port: UInt16
    public var endpoints: [ServiceEndpoint]
    public var balancer: Balancer = .roundRobin
    /// Nil: endpoints are never left out.
    public var outlierDetection: OutlierDetection? = OutlierDetection()
    /// How many other endpoints a connection that could not connect tries, within the retry budget.
    public var retries = 1
    /// Whether the endpoints run the sidecar, so connections to them are mutual TLS. Nil: they do when every one of
    /// them lies in `mtls.meshCidrs`.
    public var mtls: Bool?
    /// The identities the endpoints may present under mutual TLS; empty: any of our own trust domain.
    public var identities: [IdentityPattern] = []
    /// Nil: endpoints are judged only by the traffic they carry (outlier detection).
    public var healthCheck: ServiceHealthCheck?

    public init(name: String, address: IPNetwork, port: UInt16, endpoints: [ServiceEndpoint]) {
        self.name = name
        self.address = address
        self.port = port
        self.endpoints = endpoints
    }

    /// How an endpoint is chosen for each new connection.
    public enum Balancer: String, Sendable, Hashable, CaseIterable {
        /// In turn.
        case roundRobin = "round_robin"
        /// The less busy of two picked at random (power of two choices), busy meaning open connections.
        case leastRequest = "least_request"
        /// The cheaper of two picked at random, cost being the peak-EWMA of connect latency times open connections
        /// (as linkerd2-proxy and Finagle balance): a slow or overloaded endpoint gets less until it recovers.
        case peakEWMA = "p2c_ewma"
    }

    /// When an endpoint is left out: after `consecutiveFailures` failures in a row (a connect that failed, or an
    /// HTTP 5xx), for `ejectionTime`, doubled each time it is left out again soon after it came back.
    public struct OutlierDetection: Sendable, Hashable {
        public var consecutiveFailures = 5
        public var ejectionTime: Duration = .seconds(30)

        public init() {}

        /// The longest an ejection lasts, however often it repeats.
        public var longestEjection: Duration { ejectionTime * 10 }
    }

    /// `10.96.0.10:80` or `[fd00::10]:80`.
    public var addressDescription: String { ServiceEndpoint.address(address, port: port).description }

    /// Whether a connection to `address`:`port` is to this service.
    public func isAddressed(by address: [UInt8], port: UInt16) -> Bool {
        port == self.port && address == self.address.address
    }
}
