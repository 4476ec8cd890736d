import Logging
import Testing

@testable import Telemetry

/// How a request's trace is started, with and without a tracer recording spans: the W3C rules hold either way.
@Suite struct RequestTracerTests {
    static let request = RequestTracer.Request(
        method: "GET", host: "api.internal", path: "/orders", direction: "outbound", destination: "10.0.0.1:80",
        protocolVersion: "1.1")
    static let clientTrace = "4bf92f3577b34da6a3ce929d0e0e4736"
    static let clientSpan = "00f067aa0ba902b7"

    /// The OpenTelemetry tracer the proxy runs with; its exporter is never started, so nothing is sent.
    static func exportingTracer() throws -> RequestTracer {
        try SpanExport.start(
            endpoint: "http://127.0.0.1:9", encoding: .json,
            logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })
        ).tracer
    }

    @Test(arguments: [false, true])
    func aValidTraceparentIsContinued(exporting: Bool) throws {
        let tracer = exporting ? try Self.exportingTracer() : .propagating
        let trace = tracer.begin(
            Self.request, traceparent: "00-\(Self.clientTrace)-\(Self.clientSpan)-01", tracestate: "vendor=x")
        #expect(trace.traceID == Self.clientTrace)
        #expect(trace.parentSpanID == Self.clientSpan)
        #expect(trace.spanID != Self.clientSpan && trace.spanID.count == 16)
        #expect(trace.traceparent == "00-\(Self.clientTrace)-\(trace.spanID)-01")
        #expect(trace.isRecorded == exporting)
        trace.end(status: 200, outcome: "answered", rule: nil)
    }

    @Test(arguments: [false, true])
    func anUnsampledTraceStaysUnsampled(exporting: Bool) throws {
        let tracer = exporting ? try Self.exportingTracer() : .propagating
        let trace = tracer.begin(
            Self.request, traceparent: "00-\(Self.clientTrace)-\(Self.clientSpan)-00", tracestate: nil)
        #expect(trace.traceID == Self.clientTrace)
        #expect(trace.traceparent.hasSuffix("-00"))
        #expect(!trace.isRecorded, "the client's decision not to sample holds")
        trace.end(status: 200, outcome: "answered", rule: nil)
    }

    @Test(arguments: [false, true])
    func aMissingOrInvalidTraceparentStartsATrace(exporting: Bool) throws {
        let tracer = exporting ? try Self.exportingTracer() : .propagating
        for header in [nil, "garbage", "00-00000000000000000000000000000000-\(Self.clientSpan)-01"] {
            let trace = tracer.begin(Self.request, traceparent: header, tracestate: nil)
            #expect(trace.parentSpanID == nil, "\(header ?? "none")")
            #expect(trace.traceID.count == 32 && trace.traceID != Self.clientTrace)
            #expect(trace.traceparent.hasSuffix("-01"), "a new trace is sampled")
            #expect(trace.isRecorded == exporting)
            trace.end(status: nil, outcome: "reset", rule: nil)
        }
    }

    @Test func aCollectorsBaseURLGetsTheTracesPath() throws {
        #expect(try SpanExport.tracesURL(base: "http://collector:4318") == "http://collector:4318/v1/traces")
        #expect(try SpanExport.tracesURL(base: "https://collector/") == "https://collector/v1/traces")
        #expect(try SpanExport.tracesURL(base: "http://[fd00::1]:4318/otlp") == "http://[fd00::1]:4318/otlp/v1/traces")
        for invalid in ["collector:4318", "ftp://collector", "http://", "http://c:4318/?x=1", "http://c#f", ""] {
            #expect(throws: SpanExport.InvalidEndpoint.self, "\(invalid)") { try SpanExport.tracesURL(base: invalid) }
        }
    }

    @Test func exportIsOnlyOnWhenAnEndpointIsGiven() {
        #expect(!SpanExport.isConfigured(endpoint: nil, environment: [:]))
        #expect(!SpanExport.isConfigured(endpoint: nil, environment: ["OTEL_EXPORTER_OTLP_ENDPOINT": ""]))
        #expect(SpanExport.isConfigured(endpoint: "http://c:4318", environment: [:]))
        #expect(SpanExport.isConfigured(endpoint: nil, environment: ["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://c"]))
    }
}
