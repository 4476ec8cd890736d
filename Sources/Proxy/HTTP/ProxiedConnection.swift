import Foundation
import Logging
import Policy
import Telemetry

/// What the HTTP proxies know of a connection proxied request by request, fixed when it was accepted.
struct ProxiedConnection {
    let facts: ConnectionFacts
    let dialer: UpstreamDialer
    /// Read per request: a reload applies from the next request on, also on open connections.
    let configurations: ConfigurationStore
    /// The connection's own record, and where requests are reported.
    let record: ConnectionRecord
    let recorder: TrafficRecorder
    let limiter: TrafficLimiter
    let logger: Logger
    /// What every log line of this connection carries.
    let logMetadata: Logger.Metadata

    /// An HTTP request on its way, for its access log line and the metrics.
    struct Request {
        let startedAt = Date()
        let started = ContinuousClock.now
        let method: String
        let host: String?
        let path: String
        let decision: PolicyDecision?
        let trace: RequestTrace
        /// Its place under a limit that counts requests.
        var slot: RequestSlot?
        /// Why a limit refused it.
        var refusal: RequestAdmission.Refusal?
    }

    /// Whether an allowed request fits the limit in `configuration` (the request's snapshot); refusals are logged.
    /// - Parameter waitsForUpstream: the request will wait for the upstream connection to open.
    func admit(_ request: some HTTPRequestFacts, in configuration: ProxyConfiguration, waitsForUpstream: Bool)
        -> RequestAdmission
    {
        let limit = configuration.limits.first { $0.matches(facts) }
        let admission = RequestAdmission.admit(under: limit, limiter: limiter, waitsForUpstream: waitsForUpstream)
        if case .refused(let refusal) = admission {
            logger.warning(
                "request refused by limit",
                metadata: logMetadata.merging([
                    "method": "\(request.method)", "path": "\(request.target.path)", "limit": "\(refusal.limitName)",
                    "reason": "\(refusal.reason)", "status": "\(refusal.status)",
                ]) { $1 })
        }
        return admission
    }

    /// Starts a request's trace from its `traceparent` and `tracestate` headers.
    func trace(method: String, host: String?, path: String, version: String, traceparent: String?, tracestate: String?)
        -> RequestTrace
    {
        recorder.tracer.begin(
            RequestTracer.Request(
                method: method, host: host, path: path, direction: facts.direction.rawValue,
                destination: record.destination?.description, protocolVersion: version),
            traceparent: traceparent, tracestate: tracestate)
    }

    /// Decides a request under `configuration`, the snapshot it is handled with (read once per request, so a reload
    /// applies to a request whole), and logs and counts a denial with its rule.
    func decide(_ request: some HTTPRequestFacts, in configuration: ProxyConfiguration) -> PolicyDecision {
        let policy = configuration.policy(for: facts.direction)
        let decision = PolicyEvaluator.decide(policy, for: facts, request: request)
        if decision.action == .deny {
            recorder.denied(
                direction: facts.direction.rawValue, source: record.source,
                destination: record.destination?.description ?? "unknown",
                request: "\(request.method) \(request.target.path)", rule: decision.ruleName)
            logger.warning(
                "request denied by policy",
                metadata: logMetadata.merging([
                    "method": "\(request.method)", "host": "\(request.host ?? "")", "path": "\(request.target.path)",
                    "rule": "\(decision.ruleName)", "ruleIndex": "\(decision.ruleIndex.map(String.init) ?? "default")",
                ]) { $1 })
        }
        return decision
    }

    /// The body of a denial, naming the rule so the client's own logs tell why.
    static func denialText(_ decision: PolicyDecision) -> String {
        "denied by sidecar policy: rule \(decision.ruleName)\n"
    }

    /// The upstream (a service's endpoint, when the destination is a service) answered with `status`: a 5xx
    /// counts towards leaving that endpoint out.
    func upstreamAnswered(_ status: Int) {
        guard let service = dialer.service, let upstream = record.upstream else { return }
        service.responded(status, by: upstream)
    }

    /// Reports a request once its response ended (or it was reset, without a status).
    func completed(_ request: Request, status: Int?) {
        let outcome =
            status == nil
            ? "reset" : request.decision?.action == .deny ? "denied" : request.refusal != nil ? "limited" : "answered"
        recorder.requestCompleted(
            direction: facts.direction.rawValue, method: request.method, status: status,
            duration: ContinuousClock.now - request.started
        ) {
            var entry = AccessLogEntry(
                kind: .request, start: AccessLogTime(request.startedAt),
                durationMs: ConnectionRecord.milliseconds(since: request.started),
                direction: facts.direction.rawValue, source: record.source)
            entry.destination = record.destination?.description
            entry.protocol = record.detected.map { "\($0)" }
            entry.method = request.method
            entry.host = request.host
            entry.path = request.path
            entry.status = status
            entry.decision = request.decision?.action.rawValue
            entry.rule = request.decision?.ruleName
            entry.outcome = outcome
            entry.limit = request.refusal?.limitName
            entry.traceId = request.trace.traceID
            entry.spanId = request.trace.spanID
            entry.parentSpanId = request.trace.parentSpanID
            return entry
        }
        request.trace.end(status: status, outcome: outcome, rule: request.decision?.ruleName)
        request.slot?.release()
    }
}
