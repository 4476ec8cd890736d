import NIOHTTP1
import Telemetry

/// One route of the admin or telemetry server: a method and an exact path, and what to answer.
public struct HTTPEndpoint: Sendable {
    public var method: HTTPMethod
    public var path: String
    /// Computed in a task, never on an event loop: an answer may wait for other loops (`/connections`) or for a
    /// check of new identity files (`/reload`). An answer that blocks on file I/O hands that part to NIO's thread
    /// pool itself.
    public var respond: @Sendable (HTTPEndpointRequest) async -> HTTPEndpointResponse

    public init(
        method: HTTPMethod = .GET, path: String,
        respond: @escaping @Sendable (HTTPEndpointRequest) async -> HTTPEndpointResponse
    ) {
        self.method = method
        self.path = path
        self.respond = respond
    }

    /// `/healthz/ready`-style readiness: 200 when ready, 503 with the reason otherwise, so probes need read only the
    /// status.
    public static func readiness(path: String, health: HealthState) -> HTTPEndpoint {
        HTTPEndpoint(path: path) { _ in
            guard let reason = health.notReadyReason else { return HTTPEndpointResponse(body: "ready\n") }
            return HTTPEndpointResponse(status: .serviceUnavailable, body: "not ready: \(reason)\n")
        }
    }

    /// Liveness: answering at all proves the event loops turn.
    public static func liveness(path: String) -> HTTPEndpoint {
        HTTPEndpoint(path: path) { _ in HTTPEndpointResponse(body: "live\n") }
    }
}
