/// What `/stats` reports of the traffic so far: totals, the busiest destinations and the latest denials.
public struct TrafficStatistics: Sendable, Codable, Equatable {
    public struct Denial: Sendable, Codable, Equatable {
        public var time: String
        public var direction: String
        public var source: String
        public var destination: String
        /// For a denied HTTP request.
        public var request: String?
        public var rule: String
    }

    public struct Destination: Sendable, Codable, Equatable {
        public var destination: String
        public var connections: Int
    }

    public var activeConnections: [String: Int] = [:]
    public var totalConnections: [String: Int] = [:]
    /// Closed connections by direction, then by how they were secured (`mtls`, `passthrough`, `plaintext`): what
    /// is still plaintext before a port turns strict.
    public var connectionsByTLS: [String: [String: Int]] = [:]
    public var topDestinations: [Destination] = []
    /// Newest first.
    public var recentDenials: [Denial] = []

    public init() {}
}
