import Proxy
import ServiceLifecycle
import UnixSignals

/// A second SIGTERM or SIGINT ends the drain the first one started: every open connection is cut at once, so the
/// proxy exits without waiting out the drain timeout. (ServiceLifecycle takes the first signal; it allows no signal
/// to mean both a graceful shutdown and a cancellation.)
struct RepeatedSignalService: Service {
    let registry: ConnectionRegistry

    func run() async throws {
        var received = 0
        // Listed before the proxy, this service is asked to stop only after the proxy's drain has ended.
        for await _ in await UnixSignalsSequence(trapping: .sigterm, .sigint).cancelOnGracefulShutdown() {
            received += 1
            if received >= 2 { registry.closeAll() }
        }
    }
}
