import ServiceLifecycle

/// Reads the identity files every few seconds, so a rotation is taken without a signal (SIGHUP and `POST /reload`
/// also read them at once).
struct IdentityWatcher: Service {
    let reloader: IdentityReloader

    /// Well inside any certificate's renewal margin (issuers renew at two thirds of a lifetime of an hour or more),
    /// and three small reads each time.
    static let interval: Duration = .seconds(5)

    func run() async {
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            // Ends at once on graceful shutdown, as the sleep is cancelled then.
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: Self.interval) }
            guard !Task.isShuttingDownGracefully else { return }
            _ = await reloader.refresh()
        }
    }
}
