import Interception

/// Bounds on the traffic to matching destinations (`limits:` in the configuration; the first entry that matches a
/// connection or request applies), so an overloaded or misbehaving dependency cannot take everything the app has.
/// Over a bound, the proxy answers at once instead of queueing: a connection is reset, an HTTP request gets 429
/// (rate) or 503 (concurrency).
public struct TrafficLimit: Sendable, Hashable {
    /// Named in logs; defaults to the entry's position.
    public var name: String
    /// Only connections in this direction (either when nil).
    public var direction: TrafficDirection?
    /// The original destination lies in one of these networks (any when empty).
    public var cidrs: [IPNetwork] = []
    /// The original destination port is one of these (any when empty).
    public var ports: [PortRange] = []
    /// Concurrent connections.
    public var maxConnections: Int?
    /// New connections per second, or requests per second on connections proxied as HTTP.
    public var rate: RequestRate?
    /// Concurrent HTTP requests (circuit breaking).
    public var maxRequests: Int?
    /// HTTP requests waiting for their upstream connection to open (circuit breaking).
    public var maxPendingRequests: Int?

    public init(name: String) {
        self.name = name
    }

    public func matches(_ connection: ConnectionFacts) -> Bool {
        (direction == nil || direction == connection.direction) && connection.destination(in: cidrs, on: ports)
    }

    /// Whether HTTP connections under this limit are proxied request by request, so each request can be counted.
    public var limitsRequests: Bool { rate != nil || maxRequests != nil || maxPendingRequests != nil }
}
