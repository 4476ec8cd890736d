import ArgumentParser
import NIOCore
import NIOPosix
import Policy
import SidecarCLI
import Telemetry

/// `sidecar-proxy wait-ready`: blocks until the proxy reports ready, for a postStart hook.
struct WaitReadyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "wait-ready", abstract: "Wait until /healthz/ready answers 200; exit 1 on timeout.")

    @Option(
        help: "How long to wait (e.g. 60s, 500ms).",
        transform: { text in
            do { return try DurationText.parse(text) } catch { throw ValidationError("\(error)") }
        })
    var timeout: Duration = .seconds(60)

    @Option(help: "Telemetry port to ask.")
    var port = ProxyConfiguration.Listeners().telemetry

    func run() async throws {
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        while clock.now < deadline {
            let answer = try? await HTTPProbe.get(
                host: "127.0.0.1", port: port, path: "/healthz/ready", timeout: .seconds(1),
                group: MultiThreadedEventLoopGroup.singleton
            ).get()
            if answer?.status == .ok {
                print("sidecar-proxy: ready")
                return
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw CommandFailure(.failure, "not ready after \(timeout)")
    }
}
