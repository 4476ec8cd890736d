import Identity

/// How an outbound connection to a meshed destination is opened: mutual TLS offering `alpn`, and the identities
/// the server may present.
public struct MeshOrigination: Sendable, Hashable {
    public var alpn: MeshALPN
    /// Empty: any identity of our own trust domain.
    public var expectedPeers: [IdentityPattern]

    public init(alpn: MeshALPN, expectedPeers: [IdentityPattern]) {
        self.alpn = alpn
        self.expectedPeers = expectedPeers
    }

    /// Whether the server may be `peer`: one of the expected identities, or, when none are given, any identity of
    /// our own trust domain.
    public func accepts(_ peer: SPIFFEID, ourTrustDomain: String) -> Bool {
        guard !expectedPeers.isEmpty else { return peer.trustDomain == ourTrustDomain }
        return expectedPeers.contains { $0.matches(peer.description) }
    }
}
