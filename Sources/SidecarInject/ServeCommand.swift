import ArgumentParser
import Injection
import Logging
import Proxy
import ServiceLifecycle
import SidecarCLI

/// `sidecar-inject serve`: the injection as a `MutatingAdmissionWebhook` over HTTPS: `POST /inject` takes an
/// `AdmissionReview` and answers it; `GET /healthz` is for the Deployment's probes.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve", abstract: "Serve the injection as a Kubernetes mutating admission webhook over HTTPS.")

    @Option(help: "The server's certificate chain, PEM, leaf first (the name the API server dials must be in it).")
    var tlsCert: String

    @Option(help: "The server's private key, PEM.")
    var tlsKey: String

    @Option(help: "Port to serve on, every address.")
    var port = 9443

    @Option(help: "Seconds between checks of the certificate and key files for a renewal.")
    var certificateCheckInterval = 10

    @OptionGroup var template: TemplateOptions

    /// The API server sends one object per review; etcd keeps objects under 1.5 MiB, the review wraps one twice
    /// (object and oldObject) at most.
    static let maxReviewBytes = 4 << 20

    func validate() throws {
        guard (1...65535).contains(port) else { throw ValidationError("--port \(port) is not from 1 to 65535") }
        guard (1...3600).contains(certificateCheckInterval) else {
            throw ValidationError("--certificate-check-interval \(certificateCheckInterval) is not from 1 to 3600")
        }
    }

    func run() async throws {
        let logger = Logger(label: "sidecar-inject")
        let credentials = try WebhookCredentials(
            certificate: tlsCert, key: tlsKey, interval: .seconds(certificateCheckInterval), logger: logger)
        let responder = AdmissionReviewResponder(template: template.template)
        let webhook = HTTPEndpoint(method: .POST, path: "/inject") { request in
            let answer = responder.answer(request.body)
            logger.log(
                level: answer.allowed ? .info : .warning, "admission review answered",
                metadata: ["decision": "\(answer.summary)"])
            return HTTPEndpointResponse(
                contentType: "application/json", body: String(decoding: answer.body, as: UTF8.self))
        }
        let server = HTTPEndpointServer(
            name: "webhook", hosts: ["0.0.0.0", "::"], port: port,
            endpoints: [webhook, .liveness(path: "/healthz")], maxRequestBody: Self.maxReviewBytes,
            tls: { credentials.context },
            logger: logger)
        logger.info("serving the admission webhook", metadata: ["port": "\(port)", "path": "/inject"])
        let group = ServiceGroup(
            configuration: ServiceGroupConfiguration(
                services: [credentials, server], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
    }
}
