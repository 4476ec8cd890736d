/// Answers kept for as long as their TTLs allow (at most an hour), by question, up to `capacity` entries. Time is
/// passed in. A cached answer goes out under the asking query's id, with the time it has spent here taken off its
/// TTLs, as a caching resolver's would.
public struct DNSCache: Sendable {
    private struct Entry: Sendable {
        let response: DNSMessage
        let stored: ContinuousClock.Instant
        let expires: ContinuousClock.Instant
    }

    public let capacity: Int
    private var entries: [DNSMessage.Question: Entry] = [:]

    /// The longest an answer is kept, whatever its TTL says.
    public static let longestLifetime: UInt32 = 3600

    public init(capacity: Int = 10_000) {
        self.capacity = capacity
    }

    public var count: Int { entries.count }

    /// The cached answer to `query`, ready to send; nil when there is none or it expired.
    public mutating func answer(_ query: DNSMessage, now: ContinuousClock.Instant) -> [UInt8]? {
        guard let question = query.question, let entry = entries[question] else { return nil }
        guard now < entry.expires else {
            entries[question] = nil
            return nil
        }
        let age = UInt32(clamping: (now - entry.stored).components.seconds)
        return entry.response.answering(id: query.id, aged: age)
    }

    /// Keeps `response` if it may be cached. When full, expired entries go first, then those closest to expiring.
    public mutating func store(_ response: DNSMessage, now: ContinuousClock.Instant) {
        guard let question = response.question, let lifetime = response.cacheLifetime, lifetime > 0 else { return }
        if entries.count >= capacity, entries[question] == nil {
            entries = entries.filter { now < $0.value.expires }
            if entries.count >= capacity, let soonest = entries.min(by: { $0.value.expires < $1.value.expires }) {
                entries[soonest.key] = nil
            }
        }
        let seconds = min(lifetime, Self.longestLifetime)
        entries[question] = Entry(response: response, stored: now, expires: now + .seconds(Int(seconds)))
    }
}
