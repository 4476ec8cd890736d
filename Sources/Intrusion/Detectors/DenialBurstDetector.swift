/// Counts, per source, the policy denials it met within the window, and says when they reached the bound. After a
/// finding the source is quiet for one window, so that one burst makes one alert.
struct DenialBurstDetector: Sendable {
    private var sources: SourceTable<Denials>

    private struct Denials: Sendable {
        var times: [ContinuousClock.Instant] = []
        var quietUntil: ContinuousClock.Instant?
    }

    init(trackedSources: Int) {
        sources = SourceTable(capacity: trackedSources)
    }

    /// - Returns: the number of denials in the window when it reached `settings.count`; nil otherwise.
    mutating func record(from source: [UInt8], now: ContinuousClock.Instant, settings: DenialDetection) -> Int? {
        sources.update(source, now: now, window: settings.window, make: Denials.init) { denials in
            if let quiet = denials.quietUntil, now < quiet { return nil }
            denials.quietUntil = nil
            denials.times.removeAll { now - $0 >= settings.window }
            denials.times.append(now)
            guard denials.times.count >= settings.count else { return nil }
            let count = denials.times.count
            denials.times = []
            denials.quietUntil = now + settings.window
            return count
        }
    }
}
