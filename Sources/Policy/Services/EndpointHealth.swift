/// What active health checks say of one endpoint: in rotation or not, and why. A new endpoint is in rotation
/// until its first result, which counts at once either way (traffic is not held back at start, and an endpoint
/// that is down at start leaves after one check). After that it takes `unhealthyThreshold` failures in a row to
/// leave and `healthyThreshold` passes in a row to come back.
public struct EndpointHealth: Sendable, Equatable {
    public enum Status: String, Sendable {
        /// Not checked yet: in rotation.
        case unknown
        case healthy
        case unhealthy
    }

    public private(set) var status = Status.unknown
    /// What the last check saw (`HTTP 200`) or why it failed.
    public private(set) var lastResult: String?
    public private(set) var passesInARow = 0
    public private(set) var failuresInARow = 0

    public init() {}

    public var inRotation: Bool { status != .unhealthy }

    /// One check's result; returns whether the endpoint's status changed.
    @discardableResult
    public mutating func record(passed: Bool, result: String, thresholds check: ServiceHealthCheck) -> Bool {
        lastResult = result
        let before = status
        if passed {
            passesInARow += 1
            failuresInARow = 0
            if status == .unknown || (status == .unhealthy && passesInARow >= check.healthyThreshold) {
                status = .healthy
            }
        } else {
            failuresInARow += 1
            passesInARow = 0
            if status == .unknown || (status == .healthy && failuresInARow >= check.unhealthyThreshold) {
                status = .unhealthy
            }
        }
        return status != before
    }
}
