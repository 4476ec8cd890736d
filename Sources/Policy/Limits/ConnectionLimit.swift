import Interception

/// A cap on concurrent connections to matching destinations (`limits:` in the configuration; the first entry that
/// matches a connection applies). Beyond it, a new connection is refused at once, so an overloaded or misbehaving
/// dependency cannot take every connection the app has.
public struct ConnectionLimit: Sendable, Hashable {
    /// Named in logs; defaults to the entry's position.
    public var name: String
    /// Only connections in this direction (either when nil).
    public var direction: TrafficDirection?
    /// The original destination lies in one of these networks (any when empty).
    public var cidrs: [IPNetwork] = []
    /// The original destination port is one of these (any when empty).
    public var ports: [PortRange] = []
    public var maxConnections: Int

    public init(name: String, maxConnections: Int) {
        self.name = name
        self.maxConnections = maxConnections
    }

    public func matches(_ connection: ConnectionFacts) -> Bool {
        (direction == nil || direction == connection.direction) && connection.destination(in: cidrs, on: ports)
    }
}
