import Logging
import NIOCore
import NIOPosix
import Policy
import ServiceLifecycle
import Telemetry

/// Active health checks of every service with `healthCheck`: each of its endpoints is checked every interval (plus
/// up to a tenth of it at random), from the proxy's uid so the checks are not captured, and leaves or rejoins the
/// balancer's rotation as its thresholds say. Services that a reload adds, changes or removes start, restart or
/// stop their checks within a second.
public struct ServiceHealthChecker: Service {
    private let configurations: ConfigurationStore
    private let directory: ServiceDirectory
    private let runner: HealthCheckRunner
    private let recorder: TrafficRecorder
    private let logger: Logger

    public init(
        configurations: ConfigurationStore, directory: ServiceDirectory, runner: HealthCheckRunner,
        recorder: TrafficRecorder, logger: Logger
    ) {
        self.configurations = configurations
        self.directory = directory
        self.runner = runner
        self.recorder = recorder
        self.logger = logger
    }

    public func run() async throws {
        try? await cancelWhenGracefulShutdown {
            var checking: [ServiceDefinition: Task<Void, Never>] = [:]
            do {
                while true {
                    let wanted = Set(configurations.current.services.filter { $0.healthCheck != nil })
                    for (definition, task) in checking where !wanted.contains(definition) {
                        task.cancel()
                        checking[definition] = nil
                    }
                    for definition in wanted where checking[definition] == nil {
                        guard let healthCheck = definition.healthCheck else { continue }
                        let runtime = directory.runtime(for: definition)
                        checking[definition] = Task { await check(runtime, healthCheck) }
                    }
                    try await Task.sleep(for: .seconds(1))
                }
            } catch {
                // Shutting down: the checks under way end within their timeouts, and are waited for.
                for task in checking.values { task.cancel() }
                for task in checking.values { await task.value }
            }
        }
    }

    /// One service's rounds: every endpoint at once, then the interval.
    private func check(_ runtime: ServiceRuntime, _ healthCheck: ServiceHealthCheck) async {
        let name = runtime.definition.name
        let eventLoop = MultiThreadedEventLoopGroup.singleton.next()
        while !Task.isCancelled {
            let addresses = await runtime.currentAddresses(on: eventLoop)
            await withTaskGroup(of: Void.self) { group in
                for address in addresses {
                    guard let host = address.ipAddress, let port = address.port else { continue }
                    group.addTask {
                        let outcome = await runner.run(
                            healthCheck.check, against: .init(host: host, port: port, fromInboundDeliverySource: false),
                            timeout: healthCheck.timeout)
                        guard let (health, changed) = runtime.checked(address, outcome, thresholds: healthCheck)
                        else { return }
                        recorder.healthChecked(
                            service: name, endpoint: address.endpoint, healthy: outcome.isHealthy,
                            inRotation: health.inRotation)
                        guard changed else { return }
                        logger.log(
                            level: health.inRotation ? .info : .warning,
                            health.inRotation ? "service endpoint healthy" : "service endpoint unhealthy",
                            metadata: [
                                "service": "\(name)", "endpoint": "\(address.endpoint)",
                                "result": "\(health.lastResult ?? "")",
                            ])
                    }
                }
            }
            try? await Task.sleep(for: healthCheck.interval + healthCheck.interval * Double.random(in: 0..<0.1))
        }
    }
}
