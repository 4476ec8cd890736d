import Foundation
import Policy

/// Whether a request the policy allowed also fits its limit (`limits:`, first match).
enum RequestAdmission {
    /// Let through; the slot, if a limit counts the request, is its place under it.
    case admitted(RequestSlot?)
    /// Answered by the proxy at once: over the rate (429) or over a concurrency bound (503).
    case refused(Refusal)

    struct Refusal {
        let status: Int
        let limitName: String
        let reason: String
        /// Whole seconds until the rate has a token again, for `Retry-After`.
        let retryAfter: Int?

        static func rate(_ limit: TrafficLimit, wait: Duration) -> Refusal {
            Refusal(
                status: 429, limitName: limit.name, reason: "request rate limit",
                retryAfter: max(1, Int(wait.inSeconds.rounded(.up))))
        }

        static func overloaded(_ limit: TrafficLimit, _ bound: String) -> Refusal {
            Refusal(status: 503, limitName: limit.name, reason: bound, retryAfter: nil)
        }

        /// The answer, naming the limit, as a denial names its rule.
        var answer: LocalAnswer {
            LocalAnswer(status: status, text: "\(reason) reached: limit \(limitName)", retryAfter: retryAfter)
        }
    }

    /// Takes what the request needs under `limit`: a token, a place among the requests in flight, and, when it is to
    /// wait for its upstream connection, a place among the pending ones.
    static func admit(under limit: TrafficLimit?, limiter: TrafficLimiter, waitsForUpstream: Bool) -> RequestAdmission {
        guard let limit, limit.limitsRequests else { return .admitted(nil) }
        if let wait = limiter.takeToken(under: limit) { return .refused(.rate(limit, wait: wait)) }
        guard let slot = RequestSlot(under: limit, limiter: limiter) else {
            return .refused(.overloaded(limit, "concurrent requests limit"))
        }
        if waitsForUpstream, !slot.awaitUpstream() {
            return .refused(.overloaded(limit, "pending requests limit"))
        }
        return .admitted(slot)
    }
}
