import Logging
import NIOConcurrencyHelpers
import NIOCore
import Policy

/// `GET /app-health/CONTAINER/livez|readyz|startupz` on the telemetry port: the app's own probe, run by the proxy
/// against the app when the kubelet asks, answered 200 or 503 with what was seen. The proxy reaches the app as
/// uid 1337 from 127.0.0.6, so neither capture nor mutual TLS stands between them, and a TCP probe meets the app,
/// not the proxy that accepts every captured connection.
public enum AppHealthEndpoints {
    /// - Parameter podAddress: where probes without a host go, as the kubelet dials the pod's address; loopback
    ///   when unknown.
    public static func endpoints(
        for probes: AppProbes, podAddress: String?, runner: HealthCheckRunner, logger: Logger
    ) -> [HTTPEndpoint] {
        let lastHealthy = NIOLockedValueBox([String: Bool]())
        var endpoints: [HTTPEndpoint] = []
        for (container, kinds) in probes.containers.sorted(by: { $0.key < $1.key }) {
            for (kind, probe) in kinds.sorted(by: { $0.key.rawValue < $1.key.rawValue }) {
                let path = AppProbes.path(container: container, kind: kind)
                let (check, port, host) = probe.healthCheck
                let address = host ?? podAddress ?? "127.0.0.1"
                // The pod's own address must be dialled from 127.0.0.6; a host the probe names elsewhere is plain
                // outbound from the proxy's uid.
                let target = HealthCheckRunner.Target(
                    host: address, port: port, fromInboundDeliverySource: address == podAddress && isIPv4(address))
                endpoints.append(
                    HTTPEndpoint(path: path) { _ in
                        let outcome = await runner.run(check, against: target, timeout: checkTimeout(probe.timeout))
                        let changed = lastHealthy.withLockedValue { last in
                            defer { last[path] = outcome.isHealthy }
                            return last[path] != outcome.isHealthy
                        }
                        switch outcome {
                        case .healthy(let seen):
                            if changed {
                                logger.info("app probe passes", metadata: ["probe": "\(path)", "seen": "\(seen)"])
                            }
                            return HTTPEndpointResponse(body: "\(seen)\n")
                        case .unhealthy(let reason):
                            if changed {
                                logger.notice("app probe fails", metadata: ["probe": "\(path)", "reason": "\(reason)"])
                            }
                            return HTTPEndpointResponse(status: .serviceUnavailable, body: "\(reason)\n")
                        }
                    })
            }
        }
        return endpoints
    }

    /// The kubelet waits `timeoutSeconds` for the proxy's answer: the check gets a little less, so that its 503
    /// and reason arrive before the kubelet gives up.
    private static func checkTimeout(_ timeout: Duration) -> Duration {
        max(timeout - .milliseconds(200), timeout / 2)
    }

    /// The capture rules send the proxy's connections to the pod's own address back inbound for IPv4 only.
    private static func isIPv4(_ host: String) -> Bool {
        (try? SocketAddress(ipAddress: host, port: 0))?.protocol == .inet
    }
}
