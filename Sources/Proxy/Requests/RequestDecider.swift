import Foundation
import Logging
import NIOCore
import Policy
import Telemetry

/// The requests of one connection proxied request by request, HTTP/1.1 and HTTP/2 alike: each is decided here, once
/// (`decide`), traced, and reported when it ends (`completed`); what is known of the connection is fixed when it was
/// accepted, the configuration is read per request.
struct RequestDecider {
    let facts: ConnectionFacts
    /// Where the allowed requests go, and who hears how they were answered.
    let upstream: Upstream
    /// Read per request: a reload applies from the next request on, also on open connections.
    let configurations: ConfigurationStore
    /// Read per request too: what a name rule's host resolves to now.
    let names: NameAddressBook
    /// The caller's `x-forwarded-client-cert` element, when this sidecar terminated its mutual TLS.
    let clientCertificate: String?
    /// The connection's own record, and where requests are reported.
    let record: ConnectionRecord
    let recorder: TrafficRecorder
    let limiter: TrafficLimiter
    /// Hears of each signature a request matched and of each policy denial.
    let intrusion: IntrusionMonitor
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
        /// What the upstream gets in `x-forwarded-client-cert`.
        let clientCertificate: ClientCertificateHeader
        /// A gRPC call: what the proxy answers itself is a gRPC status.
        let grpc: Bool
        /// Its place under a limit that counts requests.
        var slot: RequestSlot?
        /// Why a limit refused it.
        var refusal: RequestAdmission.Refusal?
    }

    /// What becomes of one HTTP request.
    enum Decision {
        /// Forwarded to the upstream; its response must begin within `responseTimeout` of the request's end.
        case forward(Request, responseTimeout: Duration?)
        /// Answered by the proxy.
        case answer(LocalAnswer, Request)
    }

    /// The one place where an HTTP request is decided, for HTTP/1.1 and HTTP/2 alike: with one snapshot of the
    /// configuration (a reload applies to a request whole, from the next one on), its rule, then its limit; its
    /// trace begins here, and a denial, a refusal or a signature's match is logged and counted here.
    /// - Parameters:
    ///   - body: the first bytes of the body, when the request was held for them (`bodyBytesToInspect`).
    ///   - version: the protocol version, as traces write it (`1.1`, `2`).
    ///   - waitsForUpstream: the request will wait for the upstream connection to open.
    func decide(_ request: some HTTPRequestFacts, body: [UInt8]? = nil, version: String, waitsForUpstream: Bool)
        -> Decision
    {
        let configuration = configurations.current
        let verdict = ConnectionPlanner.decide(
            request, body: body, on: facts, in: configuration, names: names.snapshot())
        let decision = verdict.decision
        let host = request.host.map(String.init)
        let subject = IntrusionMonitor.Subject(
            destination: record.destination?.description, method: request.method, host: host,
            path: request.target.path)
        if let match = verdict.signature {
            intrusion.signatureMatched(match, facts: facts, about: subject, in: configuration)
        }
        var proxied = Request(
            method: request.method, host: host, path: request.target.path, decision: decision,
            trace: trace(
                method: request.method, host: host, path: request.target.path, version: version,
                header: request.header),
            clientCertificate: ClientCertificateHeader.forRequest(
                direction: facts.direction, element: clientCertificate,
                forwarding: configuration.mtls.forwardClientCert),
            grpc: LocalAnswer.isGRPC(contentType: request.header("content-type")))
        guard decision.action == .allow else {
            recorder.denied(
                direction: facts.direction.rawValue, source: record.source,
                destination: record.destination?.description ?? "unknown",
                request: "\(request.method) \(request.target.path)", rule: decision.ruleName)
            if !verdict.refusedBySignature { intrusion.denied(facts, about: subject, in: configuration) }
            logger.warning(
                "request denied by policy",
                metadata: logMetadata.merging([
                    "method": "\(request.method)", "host": "\(host ?? "")", "path": "\(request.target.path)",
                    "rule": "\(decision.ruleName)", "ruleIndex": "\(decision.ruleIndex.map(String.init) ?? "default")",
                ]) { $1 })
            return .answer(.denied(decision), proxied)
        }
        let limit = configuration.limits.first { $0.matches(facts) }
        switch RequestAdmission.admit(under: limit, limiter: limiter, waitsForUpstream: waitsForUpstream) {
        case .admitted(let slot):
            proxied.slot = slot
            return .forward(proxied, responseTimeout: configuration.timeouts.request)
        case .refused(let refusal):
            proxied.refusal = refusal
            logger.warning(
                "request refused by limit",
                metadata: logMetadata.merging([
                    "method": "\(request.method)", "path": "\(request.target.path)", "limit": "\(refusal.limitName)",
                    "reason": "\(refusal.reason)", "status": "\(refusal.status)",
                ]) { $1 })
            return .answer(refusal.answer, proxied)
        }
    }

    /// How much of the request's body to hold before it is decided, for the signatures; nil: decide it now.
    func bodyBytesToInspect(_ request: some HTTPRequestFacts) -> Int? {
        ConnectionPlanner.bodyBytesToInspect(request, on: facts, in: configurations.current)
    }

    /// A request the proxy could not read far enough to decide (malformed, or refused before policy): it is still
    /// traced, logged and counted, with no rule.
    func unreadable(method: String, host: String?, path: String, version: String, header: (String) -> String?)
        -> Request
    {
        Request(
            method: method, host: host, path: path, decision: nil,
            trace: trace(method: method, host: host, path: path, version: version, header: header),
            clientCertificate: .untouched, grpc: LocalAnswer.isGRPC(contentType: header("content-type")))
    }

    /// Starts a request's trace from its `traceparent` and `tracestate` headers.
    private func trace(method: String, host: String?, path: String, version: String, header: (String) -> String?)
        -> RequestTrace
    {
        recorder.tracer.begin(
            RequestTracer.Request(
                method: method, host: host, path: path, direction: facts.direction.rawValue,
                destination: record.destination?.description, protocolVersion: version),
            traceparent: header("traceparent"), tracestate: header("tracestate"))
    }

    /// Reports a request once its response ended (or it was reset, without a status).
    /// - Parameter carrier: the upstream connection that carried it; nil for one the proxy answered itself.
    func completed(_ request: Request, status: Int?, carriedBy carrier: UpstreamCarrier?) {
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
            entry.upstream = carrier?.endpoint?.endpoint
            entry.upstreamConnection = carrier?.local?.endpoint
            entry.peerIdentity = record.peer?.description
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

    /// A request goes upstream again, as its `RetryAllowance` said after it failed at `endpoint`: logged, counted,
    /// and, when it goes to another endpoint, that endpoint's failure told to the service (one that never processed
    /// the request did nothing wrong).
    /// - Parameter carrier: what an unprocessed request goes again on: `connection` or `stream`.
    func resending(
        method: String, path: String, failedAt endpoint: SocketAddress, as next: RetryAllowance.Next,
        on carrier: String
    ) {
        let message: Logger.Message
        switch next {
        case .resend:
            message = "request sent again on a new \(carrier)"
            recorder.requestResent(because: "unprocessed")
        case .elsewhere(_, let feedback):
            message = "request retried on another endpoint"
            recorder.requestResent(because: "failed")
            upstream.answered(feedback, by: endpoint)
        }
        logger.info(
            message,
            metadata: logMetadata.merging([
                "endpoint": "\(endpoint.endpoint)", "method": "\(method)", "path": "\(path)",
            ]) { $1 })
    }
}
