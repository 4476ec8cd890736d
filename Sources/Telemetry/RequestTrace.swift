import Tracing
import W3CTraceContext

/// The W3C trace context of one proxied HTTP request. A valid `traceparent` from the client is continued (same
/// trace, the client's span as parent); anything else starts a new trace. The proxy's own span is what the upstream
/// receives as its parent, so the hop shows in the trace. `RequestTracer` makes these.
public struct RequestTrace: Sendable {
    /// The proxy's span.
    public let context: TraceContext
    /// The client's span, when the request carried a valid `traceparent`.
    public let parentSpanID: String?
    /// The span being recorded for export; nil when no exporter is configured (the ids still propagate).
    private let span: (any Span)?

    /// A trace of the proxy's own making, for when nothing records spans.
    /// - Parameter traceparent: the request's header, if any; an invalid one is ignored, as the specification says.
    public init(traceparent: String?, tracestate: String? = nil) {
        if let incoming = Self.parse(traceparent: traceparent, tracestate: tracestate) {
            context = TraceContext(
                traceID: incoming.traceID, spanID: .random(), flags: incoming.flags, state: incoming.state)
            parentSpanID = incoming.spanID.description
        } else {
            context = TraceContext(traceID: .random(), spanID: .random(), flags: .sampled, state: TraceState())
            parentSpanID = nil
        }
        span = nil
    }

    /// The trace of a span a tracer started: its ids are what the upstream and the access log see.
    init(context: TraceContext, parentSpanID: String?, span: any Span) {
        self.context = context
        self.parentSpanID = parentSpanID
        self.span = span
    }

    static func parse(traceparent: String?, tracestate: String?) -> TraceContext? {
        guard let traceparent else { return nil }
        return try? TraceContext(traceParentHeaderValue: traceparent, traceStateHeaderValue: tracestate)
    }

    /// Whether a span is being recorded for export (a tracer is configured, and sampled this trace).
    var isRecorded: Bool { span?.isRecording ?? false }

    /// The header the upstream receives.
    public var traceparent: String { context.traceParentHeaderValue }
    public var traceID: String { context.traceID.description }
    public var spanID: String { context.spanID.description }

    /// Ends the recorded span, if any, with what became of the request. A request answered by the proxy itself
    /// (a denial, a refusal) is not an error of the proxy; a 5xx or a reset is.
    /// - Parameter status: the response's status; nil when the request was reset.
    public func end(status: Int?, outcome: String, rule: String?) {
        guard let span else { return }
        if let status {
            span.attributes["http.response.status_code"] = status
        }
        span.attributes["sidecar.outcome"] = outcome
        if let rule {
            span.attributes["sidecar.policy.rule"] = rule
        }
        if status.map({ $0 >= 500 }) ?? true {
            span.setStatus(SpanStatus(code: .error))
        }
        span.end()
    }
}
