import Foundation
import Logging
import OTel
import ServiceLifecycle

/// Exports a span per proxied HTTP request over OTLP/HTTP (swift-otel). Off unless an endpoint is configured, by
/// flag or by the standard `OTEL_EXPORTER_OTLP_ENDPOINT` / `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` variables; the
/// other `OTEL_*` variables (sampler, headers, batch delay, service name) tune it as the OpenTelemetry SDKs do.
public enum SpanExport {
    /// OTLP's two HTTP encodings.
    public enum Encoding: String, CaseIterable, Sendable {
        case protobuf = "http/protobuf"
        case json = "http/json"
    }

    /// The variables that turn export on without a flag.
    static let endpointVariables = ["OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"]

    /// Whether spans are to be exported: an endpoint given, or one of the standard variables set.
    public static func isConfigured(endpoint: String?, environment: [String: String]) -> Bool {
        endpoint != nil || endpointVariables.contains { !(environment[$0] ?? "").isEmpty }
    }

    /// The URL spans are posted to, from a collector's base URL, as `OTEL_EXPORTER_OTLP_ENDPOINT` reads it:
    /// `http://collector:4318` posts to `http://collector:4318/v1/traces`.
    /// - Throws: a message naming what is wrong with `base`.
    public static func tracesURL(base: String) throws(InvalidEndpoint) -> String {
        guard let url = URL(string: base), let scheme = url.scheme?.lowercased(), ["http", "https"].contains(scheme),
            let host = url.host, !host.isEmpty, url.query == nil, url.fragment == nil
        else {
            throw InvalidEndpoint(
                message: "'\(base)' is not an http:// or https:// URL of an OTLP collector (like http://collector:4318)"
            )
        }
        return base.hasSuffix("/") ? base + "v1/traces" : base + "/v1/traces"
    }

    /// The tracer requests are recorded with, and the service that batches and sends their spans; run it in the
    /// service group so spans still queued at shutdown are flushed.
    /// - Parameter endpoint: a collector's base URL, or nil to take it from the environment.
    public static func start(endpoint: String?, encoding: Encoding, logger: Logger) throws -> (
        tracer: RequestTracer, service: any Service
    ) {
        var configuration = OTel.Configuration.default
        configuration.serviceName = "sidecar-proxy"
        configuration.diagnosticLogger = .custom(logger)
        configuration.propagators = [.traceContext]
        configuration.logs.enabled = false
        configuration.metrics.enabled = false
        configuration.traces.enabled = true
        configuration.traces.exporter = .otlp
        configuration.traces.otlpExporter.protocol = encoding == .json ? .httpJSON : .httpProtobuf
        if let endpoint {
            configuration.traces.otlpExporter.endpoint = try tracesURL(base: endpoint)
        }
        let backend = try OTel.makeTracingBackend(configuration: configuration)
        return (RequestTracer(tracer: backend.factory), backend.service)
    }

    /// An endpoint that cannot work, said in words an operator can act on.
    public struct InvalidEndpoint: Error, CustomStringConvertible {
        public let message: String
        public var description: String { message }
    }
}
