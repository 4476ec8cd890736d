import Identity
import Policy

/// What a completed mesh handshake established: who the peer is and, when it agreed on one, the mesh ALPN.
struct MeshSession: Sendable {
    let peer: SPIFFEID
    let alpn: MeshALPN?
    /// The hex SHA-256 of the peer's leaf certificate (DER), as `x-forwarded-client-cert` gives it.
    let certificateHash: String
}
