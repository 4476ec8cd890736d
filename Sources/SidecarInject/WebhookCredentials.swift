import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOSSL
import ServiceLifecycle
import SidecarCLI

/// The webhook's certificate and key, read again when the files change: cert-manager renews them in the mounted
/// Secret, and a webhook still serving the old certificate after it expired would stop every pod creation (the
/// webhook fails closed). A pair that cannot be used (half written, key not matching) is refused and logged, and
/// the last good one serves on; new connections take the new one, open ones keep theirs.
final class WebhookCredentials: Service {
    private let certificatePath: String
    private let keyPath: String
    private let interval: Duration
    private let logger: Logger
    private let current: NIOLockedValueBox<(context: NIOSSLContext, files: Files)>

    /// Reads both files once; a pair that cannot serve is bad input (exit 2) before anything listens.
    init(certificate: String, key: String, interval: Duration, logger: Logger) throws {
        certificatePath = certificate
        keyPath = key
        self.interval = interval
        self.logger = logger
        do {
            let files = try Self.read(certificate, key)
            current = NIOLockedValueBox((try Self.context(files), files))
        } catch {
            throw CommandFailure.badInput("cannot use --tls-cert \(certificate) and --tls-key \(key): \(error)")
        }
    }

    /// The context for a new connection.
    var context: NIOSSLContext { current.withLockedValue { $0.context } }

    func run() async throws {
        try? await cancelWhenGracefulShutdown {
            while true {
                try await Task.sleep(for: self.interval)
                self.reloadIfChanged()
            }
        }
    }

    /// Takes the files when their bytes changed and they make a working server context.
    func reloadIfChanged() {
        guard let files = try? Self.read(certificatePath, keyPath),
            files != current.withLockedValue({ $0.files })
        else { return }
        do {
            // From the bytes just compared: files replaced again meanwhile are seen at the next check.
            let context = try Self.context(files)
            current.withLockedValue { $0 = (context, files) }
            logger.info("webhook certificate renewed", metadata: ["certificate": "\(certificatePath)"])
        } catch {
            logger.warning(
                "webhook certificate refused; the previous one serves on",
                metadata: ["certificate": "\(certificatePath)", "error": "\(error)"])
        }
    }

    /// Both files, read once per check: the certificate chain's bytes and the key's.
    private static func read(_ certificate: String, _ key: String) throws -> Files {
        Files(
            certificate: try Data(contentsOf: URL(fileURLWithPath: certificate)),
            key: try Data(contentsOf: URL(fileURLWithPath: key)))
    }

    struct Files: Equatable {
        var certificate: Data
        var key: Data
    }

    /// TLS 1.2 and 1.3: the API server speaks both.
    private static func context(_ files: Files) throws -> NIOSSLContext {
        var configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: try NIOSSLCertificate.fromPEMBytes(Array(files.certificate)).map { .certificate($0) },
            privateKey: .privateKey(try NIOSSLPrivateKey(bytes: Array(files.key), format: .pem)))
        configuration.minimumTLSVersion = .tlsv12
        return try NIOSSLContext(configuration: configuration)
    }
}
