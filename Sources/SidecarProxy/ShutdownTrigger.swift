import Foundation
import Proxy
import ServiceLifecycle
import Synchronization
import Telemetry

/// The admin port's way to stop the proxy: `POST /drain` shuts down as SIGTERM does (readiness first, then the
/// drain), `POST /quitquitquit` exits at once, without a drain.
final class ShutdownTrigger: Sendable {
    private let group = Mutex<ServiceGroup?>(nil)

    /// The group to shut down, once it exists (the endpoints are made before it).
    func attach(_ serviceGroup: ServiceGroup) {
        group.withLock { $0 = serviceGroup }
    }

    var drainEndpoint: HTTPEndpoint {
        HTTPEndpoint(method: .POST, path: "/drain") { _ in
            guard let serviceGroup = self.group.withLock({ $0 }) else {
                return HTTPEndpointResponse(status: .serviceUnavailable, body: "not started yet\n")
            }
            Task { await serviceGroup.triggerGracefulShutdown() }
            return HTTPEndpointResponse(body: "draining\n")
        }
    }

    var quitEndpoint: HTTPEndpoint {
        HTTPEndpoint(method: .POST, path: "/quitquitquit") { _ in
            // Long enough for this answer to be written.
            Task {
                try? await Task.sleep(for: .milliseconds(100))
                exit(0)
            }
            return HTTPEndpointResponse(body: "exiting\n")
        }
    }
}
