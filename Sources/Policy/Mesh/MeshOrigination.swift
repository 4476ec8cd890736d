import Identity

/// How an outbound connection to a meshed destination is opened: mutual TLS offering `alpn`, and the identities
/// the server may present; and whether its HTTP/1.1 requests ride shared connections instead.
public struct MeshOrigination: Sendable, Hashable {
    public var alpn: MeshALPN
    /// Empty: any identity of our own trust domain.
    public var expectedPeers: [IdentityPattern]
    /// Each HTTP/1.1 request that stays in HTTP (and each HTTP/2 request, where they are proxied stream by stream) is
    /// a stream of a shared connection (`sidecar.mesh/streams`); HTTP/1.0, `Upgrade` and `CONNECT` still get a
    /// connection of their own offering `alpn`.
    public var sharesConnections: Bool

    public init(alpn: MeshALPN, expectedPeers: [IdentityPattern], sharesConnections: Bool = false) {
        self.alpn = alpn
        self.expectedPeers = expectedPeers
        self.sharesConnections = sharesConnections
    }

    /// Whether the server may be `peer`: one of the expected identities, or, when none are given, any identity of
    /// our own trust domain.
    public func accepts(_ peer: SPIFFEID, ourTrustDomain: String) -> Bool {
        guard !expectedPeers.isEmpty else { return peer.trustDomain == ourTrustDomain }
        return expectedPeers.contains { $0.matches(peer.description) }
    }
}
