/// A service's endpoints as the proxy sees them now, for `GET /services`.
public struct ServiceSnapshot: Sendable, Codable {
    public struct Endpoint: Sendable, Codable {
        public var address: String
        public var openConnections: Int
        /// Left out by outlier detection, for now.
        public var ejected: Bool
        /// With `healthCheck`: `unknown` (not checked yet), `healthy` or `unhealthy` (out of rotation).
        public var health: String?
        /// When it was last checked (ISO 8601), and what that check saw or why it failed.
        public var lastCheck: String?
        public var lastResult: String?

        public init(
            address: String, openConnections: Int, ejected: Bool, health: String? = nil, lastCheck: String? = nil,
            lastResult: String? = nil
        ) {
            self.address = address
            self.openConnections = openConnections
            self.ejected = ejected
            self.health = health
            self.lastCheck = lastCheck
            self.lastResult = lastResult
        }
    }

    public var name: String
    public var address: String
    public var balancer: String
    public var endpoints: [Endpoint]

    public init(name: String, address: String, balancer: String, endpoints: [Endpoint]) {
        self.name = name
        self.address = address
        self.balancer = balancer
        self.endpoints = endpoints
    }
}
