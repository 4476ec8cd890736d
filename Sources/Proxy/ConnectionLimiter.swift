import Policy
import Synchronization

/// Counts open connections per configured limit, across all event loops. Counts are kept per limit as written, so
/// a reload that keeps an entry keeps its count, and one that changes it starts the new entry from zero while the
/// old entry's connections still release their own count.
final class ConnectionLimiter: Sendable {
    private let open = Mutex<[ConnectionLimit: Int]>([:])

    /// Takes a place under `limit`; false when it is full.
    func acquire(_ limit: ConnectionLimit) -> Bool {
        open.withLock { open in
            let count = open[limit, default: 0]
            guard count < limit.maxConnections else { return false }
            open[limit] = count + 1
            return true
        }
    }

    func release(_ limit: ConnectionLimit) {
        open.withLock { open in
            let count = open[limit, default: 1] - 1
            open[limit] = count > 0 ? count : nil
        }
    }
}
