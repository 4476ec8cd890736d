/// A service's endpoints as the proxy sees them now, for `GET /services`.
public struct ServiceSnapshot: Sendable, Encodable {
    public struct Endpoint: Sendable, Encodable {
        public var address: String
        public var openConnections: Int
        /// Left out by outlier detection, for now.
        public var ejected: Bool
    }

    public var name: String
    public var address: String
    public var balancer: String
    public var endpoints: [Endpoint]
}
