/// Counts, per source, the distinct destinations it reached within the window, and says when it went past a bound:
/// more ports of one address than `distinctPorts` (a port scan), or more addresses than `distinctAddresses` (a
/// sweep). After a finding the source is quiet for one window, so that one scan makes one alert.
struct ScanDetector: Sendable {
    private var sources: SourceTable<Attempts>

    /// The most destinations remembered per source: far above any bound a configuration may set.
    static let destinationsPerSource = 2048

    struct Destination: Hashable, Sendable {
        let address: [UInt8]
        let port: UInt16
    }

    private struct Attempts: Sendable {
        var seen: [Destination: ContinuousClock.Instant] = [:]
        var quietUntil: ContinuousClock.Instant?
    }

    /// What went past its bound.
    enum Finding: Equatable {
        /// `count` ports of `address`.
        case ports(count: Int, address: [UInt8])
        case addresses(count: Int)
    }

    init(trackedSources: Int) {
        sources = SourceTable(capacity: trackedSources)
    }

    mutating func record(
        from source: [UInt8], to destination: Destination, now: ContinuousClock.Instant, settings: ScanDetection
    ) -> Finding? {
        sources.update(source, now: now, window: settings.window, make: Attempts.init) { attempts in
            if let quiet = attempts.quietUntil, now < quiet { return nil }
            attempts.quietUntil = nil
            attempts.seen = attempts.seen.filter { now - $0.value < settings.window }
            attempts.seen[destination] = now
            if attempts.seen.count > Self.destinationsPerSource,
                let oldest = attempts.seen.min(by: { $0.value < $1.value })
            {
                attempts.seen[oldest.key] = nil
            }
            var finding: Finding?
            if let bound = settings.distinctPorts {
                let ports = attempts.seen.keys.count(where: { $0.address == destination.address })
                if ports > bound { finding = .ports(count: ports, address: destination.address) }
            }
            if finding == nil, let bound = settings.distinctAddresses {
                let addresses = Set(attempts.seen.keys.map(\.address)).count
                if addresses > bound { finding = .addresses(count: addresses) }
            }
            if finding != nil {
                attempts.seen = [:]
                attempts.quietUntil = now + settings.window
            }
            return finding
        }
    }
}
