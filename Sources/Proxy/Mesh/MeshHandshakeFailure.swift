import Identity

/// Why a mesh handshake did not give a peer to talk to; its `reason` labels the handshake metric.
enum MeshHandshakeFailure: Error, CustomStringConvertible {
    /// BoringSSL refused the handshake (no certificate, a chain not leading to the bundle, another TLS version...).
    case tls(String)
    /// The peer's leaf does not meet the X.509-SVID rules.
    case svid(SVIDRejection)
    /// The peer is an identity this connection may not talk to.
    case unexpectedPeer(SPIFFEID)
    /// The inbound ClientHello offered a mesh ALPN but none was agreed, or the peer closed before the end.
    case incomplete
    case timedOut
    /// This workload has no identity to present.
    case noIdentity

    var reason: String {
        switch self {
        case .tls: "tls"
        case .svid: "svid"
        case .unexpectedPeer: "peer"
        case .incomplete: "incomplete"
        case .timedOut: "timeout"
        case .noIdentity: "no_identity"
        }
    }

    var description: String {
        switch self {
        case .tls(let error): "TLS handshake failed: \(error)"
        case .svid(let rejection): "the peer's certificate \(rejection)"
        case .unexpectedPeer(let id): "the peer \(id) is not an identity this connection expects"
        case .incomplete: "the handshake did not complete"
        case .timedOut: "the handshake did not complete in time"
        case .noIdentity: "this workload has no identity to present"
        }
    }
}
