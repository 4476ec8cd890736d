import Policy
import Synchronization

/// Keeps the counts and token buckets of the configured limits, across all event loops. State is kept per entry
/// name, so a reload that keeps or edits an entry keeps its counts and its bucket's tokens (an edit never lets a
/// second full quota in: the held connections still count against the new bound, and the bucket keeps what it had,
/// up to the new burst), and an entry a reload removes is let go once nothing it counted is held.
final class TrafficLimiter: Sendable {
    fileprivate struct Usage {
        var connections = 0
        var requests = 0
        var pending = 0
        var bucket: TokenBucket?
    }

    /// The counters a limit bounds.
    enum Counter {
        case connections, requests, pending

        func bound(in limit: TrafficLimit) -> Int? {
            switch self {
            case .connections: limit.maxConnections
            case .requests: limit.maxRequests
            case .pending: limit.maxPendingRequests
            }
        }
    }

    private let usage = Mutex<[String: Usage]>([:])

    /// Takes a place under the limit's bound for `counter`; false when it is full. Always true when the limit sets
    /// no such bound (and nothing is counted, so nothing is to be released).
    func acquire(_ counter: Counter, under limit: TrafficLimit) -> Bool {
        guard let bound = counter.bound(in: limit) else { return true }
        return usage.withLock { usage in
            var entry = usage[limit.name, default: Usage()]
            guard entry[counter] < bound else { return false }
            entry[counter] += 1
            usage[limit.name] = entry
            return true
        }
    }

    /// Gives back a place `acquire` took.
    func release(_ counter: Counter, under limit: TrafficLimit) {
        guard counter.bound(in: limit) != nil else { return }
        usage.withLock { usage in
            guard var entry = usage[limit.name] else { return }
            entry[counter] = max(0, entry[counter] - 1)
            usage[limit.name] = entry.isUnused ? nil : entry
        }
    }

    /// Takes a token of the limit's rate. Returns nil when taken (or the limit sets no rate), else how long until
    /// a token will be there.
    func takeToken(under limit: TrafficLimit, now: ContinuousClock.Instant = .now) -> Duration? {
        guard let rate = limit.rate else { return nil }
        return usage.withLock { usage in
            var entry = usage[limit.name, default: Usage()]
            var bucket = entry.bucket ?? TokenBucket(rate: rate, now: now)
            if bucket.rate != rate { bucket.retune(to: rate, now: now) }
            let wait = bucket.take(at: now)
            entry.bucket = bucket
            usage[limit.name] = entry
            return wait
        }
    }

    /// After a reload: entries the configuration no longer names lose their buckets, and are let go once nothing
    /// they counted is held (what is still held releases into them as it ends).
    func prune(keeping names: Set<String>) {
        usage.withLock { usage in
            for (name, var entry) in usage where !names.contains(name) {
                entry.bucket = nil
                usage[name] = entry.isUnused ? nil : entry
            }
        }
    }
}

extension TrafficLimiter.Usage {
    subscript(counter: TrafficLimiter.Counter) -> Int {
        get {
            switch counter {
            case .connections: connections
            case .requests: requests
            case .pending: pending
            }
        }
        set {
            switch counter {
            case .connections: connections = newValue
            case .requests: requests = newValue
            case .pending: pending = newValue
            }
        }
    }

    /// Nothing counted and no bucket to keep: the entry can go.
    var isUnused: Bool { connections == 0 && requests == 0 && pending == 0 && bucket == nil }
}
