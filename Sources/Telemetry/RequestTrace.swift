import W3CTraceContext

/// The W3C trace context of one proxied HTTP request. A valid `traceparent` from the client is continued (same
/// trace, the client's span as parent); anything else starts a new trace. The proxy's own span is what the upstream
/// receives as its parent, so the hop shows in the trace.
public struct RequestTrace: Sendable {
    /// The proxy's span.
    public let context: TraceContext
    /// The client's span, when the request carried a valid `traceparent`.
    public let parentSpanID: String?

    /// - Parameter traceparent: the request's header, if any; an invalid one is ignored, as the specification says.
    public init(traceparent: String?, tracestate: String? = nil) {
        if let traceparent,
            let incoming = try? TraceContext(
                traceParentHeaderValue: traceparent, traceStateHeaderValue: tracestate)
        {
            context = TraceContext(
                traceID: incoming.traceID, spanID: .random(), flags: incoming.flags, state: incoming.state)
            parentSpanID = incoming.spanID.description
        } else {
            context = TraceContext(traceID: .random(), spanID: .random(), flags: .sampled, state: TraceState())
            parentSpanID = nil
        }
    }

    /// The header the upstream receives.
    public var traceparent: String { context.traceParentHeaderValue }
    public var traceID: String { context.traceID.description }
    public var spanID: String { context.spanID.description }
}
