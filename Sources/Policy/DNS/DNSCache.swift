/// Answers kept for as long as their TTLs allow (at most an hour), by question, by whether the query carried EDNS
/// (an answer to one with EDNS may hold an OPT record the other must not get), and by its CD and DO bits (an answer
/// to a query that wants DNSSEC records, or unvalidated answers, is not one for a query that does not). Bounded in entries and in
/// bytes, so names under a hostile domain cannot make it grow without end. Time is passed in. A cached answer goes
/// out under the asking query's id, with the time it has spent here taken off its TTLs, as a caching resolver's
/// would.
public struct DNSCache: Sendable {
    private struct Key: Hashable, Sendable {
        let question: DNSMessage.Question
        let edns: Bool
        let checkingDisabled: Bool
        let dnssecOK: Bool

        init(_ question: DNSMessage.Question, of query: DNSMessage) {
            self.question = question
            edns = query.ednsPayloadSize != nil
            checkingDisabled = query.checkingDisabled
            dnssecOK = query.dnssecOK
        }
    }

    private struct Entry: Sendable {
        let response: DNSMessage
        let stored: ContinuousClock.Instant
        let expires: ContinuousClock.Instant
    }

    public let capacity: Int
    public let maxBytes: Int
    private var entries: [Key: Entry] = [:]
    private var bytes = 0

    /// The longest an answer is kept, whatever its TTL says.
    public static let longestLifetime: UInt32 = 3600
    /// Answers larger than this are passed on, never kept.
    public static let largestEntry = 16 * 1024

    public init(capacity: Int = 10_000, maxBytes: Int = 8 * 1024 * 1024) {
        self.capacity = capacity
        self.maxBytes = maxBytes
    }

    public var count: Int { entries.count }

    /// The cached answer to `query`, ready to send; nil when there is none or it expired.
    public mutating func answer(_ query: DNSMessage, now: ContinuousClock.Instant) -> [UInt8]? {
        guard let question = query.question else { return nil }
        let key = Key(question, of: query)
        guard let entry = entries[key] else { return nil }
        guard now < entry.expires else {
            remove(key)
            return nil
        }
        let age = UInt32(clamping: (now - entry.stored).components.seconds)
        return entry.response.answering(id: query.id, aged: age)
    }

    /// Keeps `response` to `query` if it may be cached. When full, expired entries go first, then the tenth closest
    /// to expiring, so a full cache is not swept again on every store.
    public mutating func store(_ response: DNSMessage, answering query: DNSMessage, now: ContinuousClock.Instant) {
        guard let question = response.question, let lifetime = response.cacheLifetime, lifetime > 0,
            response.bytes.count <= Self.largestEntry
        else { return }
        let key = Key(question, of: query)
        remove(key)
        if entries.count >= capacity || bytes + response.bytes.count > maxBytes {
            makeRoom(now: now)
        }
        let seconds = min(lifetime, Self.longestLifetime)
        entries[key] = Entry(response: response, stored: now, expires: now + .seconds(Int(seconds)))
        bytes += response.bytes.count
    }

    private mutating func remove(_ key: Key) {
        if let entry = entries.removeValue(forKey: key) { bytes -= entry.response.bytes.count }
    }

    private mutating func makeRoom(now: ContinuousClock.Instant) {
        for (key, entry) in entries where entry.expires <= now { remove(key) }
        guard entries.count >= capacity * 9 / 10 || bytes > maxBytes * 9 / 10 else { return }
        let soonest = entries.sorted { $0.value.expires < $1.value.expires }
        for (key, _) in soonest.prefix(max(1, entries.count / 10)) { remove(key) }
    }
}
