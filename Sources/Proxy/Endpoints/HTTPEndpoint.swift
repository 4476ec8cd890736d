import NIOHTTP1
import Telemetry

/// One route of the admin or telemetry server: a method and an exact path, and what to answer.
public struct HTTPEndpoint: Sendable {
    public var method: HTTPMethod
    public var path: String
    public var respond: @Sendable (HTTPEndpointRequest) -> HTTPEndpointResponse
    /// The answer may block (file I/O): it is computed on a thread pool, never on an event loop.
    public var mayBlock: Bool

    public init(
        method: HTTPMethod = .GET, path: String, mayBlock: Bool = false,
        respond: @escaping @Sendable (HTTPEndpointRequest) -> HTTPEndpointResponse
    ) {
        self.method = method
        self.path = path
        self.mayBlock = mayBlock
        self.respond = respond
    }

    /// `/healthz/ready`-style readiness: 200 when ready, 503 otherwise, so probes need read only the status.
    public static func readiness(path: String, health: HealthState) -> HTTPEndpoint {
        HTTPEndpoint(path: path) { _ in
            health.isReady
                ? HTTPEndpointResponse(body: "ready\n")
                : HTTPEndpointResponse(status: .serviceUnavailable, body: "not ready\n")
        }
    }

    /// Liveness: answering at all proves the event loops turn.
    public static func liveness(path: String) -> HTTPEndpoint {
        HTTPEndpoint(path: path) { _ in HTTPEndpointResponse(body: "live\n") }
    }
}
