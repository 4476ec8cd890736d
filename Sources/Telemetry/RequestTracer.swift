import Tracing
import W3CTraceContext

/// Starts the trace of each proxied HTTP request. Without a tracer the proxy still continues or starts the W3C
/// context, so an upstream and the access log join the client's trace; with one, a span per request is also
/// recorded and exported.
public struct RequestTracer: Sendable {
    private let tracer: (any Tracer)?

    /// Propagation only: no span is recorded.
    public static let propagating = RequestTracer(tracer: nil)

    public init(tracer: (any Tracer)?) {
        self.tracer = tracer
    }

    /// What a request is, for its span.
    public struct Request: Sendable {
        public var method: String
        public var host: String?
        public var path: String
        /// `outbound` spans are client spans (the pod calls out), `inbound` ones server spans.
        public var direction: String
        /// The original destination, `IP:port`.
        public var destination: String?
        public var protocolVersion: String

        public init(
            method: String, host: String?, path: String, direction: String, destination: String?,
            protocolVersion: String
        ) {
            self.method = method
            self.host = host
            self.path = path
            self.direction = direction
            self.destination = destination
            self.protocolVersion = protocolVersion
        }
    }

    /// - Parameters traceparent, tracestate: the request's headers, if any.
    public func begin(_ request: Request, traceparent: String?, tracestate: String?) -> RequestTrace {
        guard let tracer else { return RequestTrace(traceparent: traceparent, tracestate: tracestate) }
        var incoming: [String: String] = [:]
        incoming["traceparent"] = traceparent
        incoming["tracestate"] = tracestate
        var parent = ServiceContext.topLevel
        tracer.extract(incoming, into: &parent, using: HeaderDictionary())
        let span = tracer.startAnySpan(
            request.method, context: parent, ofKind: request.direction == "inbound" ? .server : .client)
        var outgoing: [String: String] = [:]
        tracer.inject(span.context, into: &outgoing, using: HeaderDictionary())
        // A tracer that propagates another format, or samples nothing, leaves no W3C context to read back.
        guard let context = RequestTrace.parse(traceparent: outgoing["traceparent"], tracestate: outgoing["tracestate"])
        else {
            span.end()
            return RequestTrace(traceparent: traceparent, tracestate: tracestate)
        }
        if span.isRecording {
            span.attributes["http.request.method"] = request.method
            span.attributes["url.path"] = request.path
            span.attributes["network.protocol.version"] = request.protocolVersion
            span.attributes["sidecar.direction"] = request.direction
            if let host = request.host {
                span.attributes["server.address"] = host
            }
            if let destination = request.destination {
                span.attributes["sidecar.destination"] = destination
            }
        }
        let parentSpanID = RequestTrace.parse(traceparent: traceparent, tracestate: tracestate)?.spanID.description
        return RequestTrace(context: context, parentSpanID: parentSpanID, span: span)
    }

    /// Trace headers as a plain dictionary, which is all a tracer reads or writes here.
    private struct HeaderDictionary: Extractor, Injector {
        func extract(key: String, from carrier: [String: String]) -> String? {
            carrier[key]
        }

        func inject(_ value: String, forKey key: String, into carrier: inout [String: String]) {
            carrier[key] = value
        }
    }
}
