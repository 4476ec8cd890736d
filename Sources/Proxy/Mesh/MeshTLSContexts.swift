import Foundation
import Identity
import NIOSSL
import Policy

/// The TLS contexts one workload identity serves with: a server context that requires and verifies a client
/// certificate, and one client context per mesh ALPN. TLS 1.3 only; the trust roots are the identity's bundle and
/// never the system's. BoringSSL verifies the chain to the bundle during the handshake; the X.509-SVID rules are
/// applied to the peer's leaf once it completes (`MeshHandshakeHandler`), before any byte is forwarded.
///
/// Built whole from one checked identity, off the event loops (BoringSSL parses the key and the roots then), and
/// replaced whole when the identity rotates: a connection keeps the contexts it started with.
public final class MeshTLSContexts: Sendable {
    public let identity: WorkloadIdentity
    let server: NIOSSLContext
    private let clients: [MeshALPN: NIOSSLContext]

    public init(_ identity: WorkloadIdentity) throws {
        let chain = try NIOSSLCertificate.fromPEMBytes(Array(identity.material.chain.utf8))
        let key = try NIOSSLPrivateKey(bytes: Array(identity.material.key.utf8), format: .pem)
        let roots = try NIOSSLCertificate.fromPEMBytes(Array(identity.material.bundle.utf8))
        func configuration(_ base: TLSConfiguration, alpn: [MeshALPN]) -> TLSConfiguration {
            var configuration = base
            configuration.certificateChain = chain.map { .certificate($0) }
            configuration.privateKey = .privateKey(key)
            configuration.minimumTLSVersion = .tlsv13
            configuration.maximumTLSVersion = .tlsv13
            // The chain is verified to the bundle; a SPIFFE ID is not a host name, so names are checked apart.
            configuration.certificateVerification = .noHostnameVerification
            configuration.trustRoots = .certificates(roots)
            configuration.applicationProtocols = alpn.map(\.rawValue)
            // X25519 first, as Envoy and OpenSSL offer: BoringSSL's default hybrid post-quantum share
            // (X25519MLKEM768) costs about 200 µs of CPU per connection, both ends (scripts/bench).
            configuration.curves = [.x25519, .secp256r1]
            return configuration
        }
        self.identity = identity
        server = try NIOSSLContext(
            configuration: configuration(
                .makeServerConfiguration(certificateChain: [], privateKey: .privateKey(key)), alpn: MeshALPN.allCases))
        var clients: [MeshALPN: NIOSSLContext] = [:]
        for alpn in MeshALPN.allCases {
            clients[alpn] = try NIOSSLContext(configuration: configuration(.makeClientConfiguration(), alpn: [alpn]))
        }
        self.clients = clients
    }

    /// The context an originating connection offers `alpn` with.
    func client(offering alpn: MeshALPN) -> NIOSSLContext {
        clients[alpn]!
    }
}
