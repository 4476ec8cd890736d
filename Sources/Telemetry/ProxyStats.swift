/// What the admin API's `/stats` answers, as `sidecar-status` reads it back: the proxy's version and uptime, its
/// configuration generation and reload errors, its listeners, its workload identity, and the traffic so far.
public struct ProxyStats: Sendable, Codable, Equatable {
    public var version: String
    public var uptimeSeconds: Int
    public var configGeneration: Int
    public var failedReloads: Int
    public var lastReloadError: String?
    public var listeners: [String: Int]
    public var traffic: TrafficStatistics
    /// Nil for a workload without an identity (and from a proxy older than this field).
    public var identity: IdentityStats?

    public init(
        version: String, uptimeSeconds: Int, configGeneration: Int, failedReloads: Int, lastReloadError: String?,
        listeners: [String: Int], traffic: TrafficStatistics, identity: IdentityStats?
    ) {
        self.version = version
        self.uptimeSeconds = uptimeSeconds
        self.configGeneration = configGeneration
        self.failedReloads = failedReloads
        self.lastReloadError = lastReloadError
        self.listeners = listeners
        self.traffic = traffic
        self.identity = identity
    }
}
