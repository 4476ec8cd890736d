import Identity
import Policy

/// What a completed mesh handshake established: who the peer is and, when it agreed on one, the mesh ALPN.
struct MeshSession: Sendable {
    let peer: SPIFFEID
    let alpn: MeshALPN?
}
