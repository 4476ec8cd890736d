/// Per-source state that ages: at most `capacity` sources, and when a new one comes to a full table, those not seen
/// within `window` leave first, then the least recently seen. Sources are addresses as network-order bytes.
struct SourceTable<State: Sendable>: Sendable {
    private var entries: [[UInt8]: (state: State, lastSeen: ContinuousClock.Instant)] = [:]
    let capacity: Int

    init(capacity: Int) {
        self.capacity = capacity
    }

    var count: Int { entries.count }

    /// Runs `update` on the source's state (a new one from `make` if it has none) and keeps what it leaves.
    mutating func update<Result>(
        _ source: [UInt8], now: ContinuousClock.Instant, window: Duration, make: () -> State,
        _ update: (inout State) -> Result
    ) -> Result {
        if entries[source] == nil, entries.count >= capacity { makeRoom(now: now, window: window) }
        var state = entries[source]?.state ?? make()
        let result = update(&state)
        entries[source] = (state, now)
        return result
    }

    mutating func remove(_ source: [UInt8]) {
        entries[source] = nil
    }

    private mutating func makeRoom(now: ContinuousClock.Instant, window: Duration) {
        entries = entries.filter { now - $0.value.lastSeen < window }
        guard entries.count >= capacity, let oldest = entries.min(by: { $0.value.lastSeen < $1.value.lastSeen })
        else { return }
        entries[oldest.key] = nil
    }
}
