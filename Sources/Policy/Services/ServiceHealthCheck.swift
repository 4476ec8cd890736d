/// `services[].healthCheck`: the active check each endpoint of a service gets, every `interval` (plus up to a
/// tenth of it at random, so checks of many proxies do not arrive together), and how many results in a row move an
/// endpoint out of rotation or back.
public struct ServiceHealthCheck: Sendable, Hashable {
    public var check: HealthCheck
    public var interval: Duration = .seconds(10)
    public var timeout: Duration = .seconds(1)
    public var unhealthyThreshold = 3
    public var healthyThreshold = 2

    public init(check: HealthCheck) {
        self.check = check
    }

    /// The statuses an HTTP check takes for healthy unless told otherwise.
    public static let defaultStatuses: [ClosedRange<Int>] = [200...299]
}
