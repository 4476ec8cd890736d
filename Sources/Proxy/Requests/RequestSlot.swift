import Policy
import Synchronization

/// A request's place under its limit's `maxRequests` (and, while it waits for its upstream connection, under
/// `maxPendingRequests`). Given back when the request is reported complete, or at the latest when the request is
/// gone, so no path through the proxy can leak a place and leave the limit full for good.
final class RequestSlot: Sendable {
    private let limiter: TrafficLimiter
    let limit: TrafficLimit
    private let held = Mutex((request: true, pending: false))

    /// Takes the request's place; nil when the limit is full.
    init?(under limit: TrafficLimit, limiter: TrafficLimiter) {
        guard limiter.acquire(.requests, under: limit) else { return nil }
        self.limit = limit
        self.limiter = limiter
    }

    /// Takes a place among the requests waiting for an upstream connection; false when those are full.
    func awaitUpstream() -> Bool {
        guard limiter.acquire(.pending, under: limit) else { return false }
        held.withLock { $0.pending = true }
        return true
    }

    /// The upstream connection opened (or failed): the request waits no more.
    func upstreamReady() {
        if held.withLock({ held in
            defer { held.pending = false }
            return held.pending
        }) {
            limiter.release(.pending, under: limit)
        }
    }

    func release() {
        upstreamReady()
        if held.withLock({ held in
            defer { held.request = false }
            return held.request
        }) {
            limiter.release(.requests, under: limit)
        }
    }

    deinit {
        release()
    }
}
