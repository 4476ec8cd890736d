import ServiceLifecycle
import UnixSignals

/// Reloads the configuration and reads the identity files each time the process receives SIGHUP, until shutdown.
struct ReloadOnHangupService: Service {
    let reloader: ConfigurationReloader

    func run() async throws {
        for await _ in await UnixSignalsSequence(trapping: .sighup).cancelOnGracefulShutdown() {
            _ = await reloader.reload()
        }
    }
}
