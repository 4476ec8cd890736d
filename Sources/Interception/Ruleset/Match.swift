/// A condition on a packet or its socket. Lists match any of their entries; `nft` holds them as anonymous sets.
public enum Match: Sendable, Hashable {
    /// The sending socket belongs to this uid (output hook only).
    case socketUID(UInt32)
    /// The sending socket belongs to this gid (output hook only).
    case socketGID(UInt32)
    /// The packet is IPv4 or IPv6 (`meta nfproto`).
    case family(IPNetwork.Family)
    /// The destination lies in one of these networks (or, negated, in none); all of one family, normalized.
    case destinationAddress([IPNetwork], negated: Bool)
    /// The source lies in this network.
    case sourceAddress(IPNetwork)
    /// The transport protocol is one of these.
    case transport([TransportProtocol])
    /// A segment of this protocol to one of these ports; normalized.
    case destinationPort(TransportProtocol, [PortRange])
    /// Leaving through one of these interfaces (output hook).
    case outputInterface([String])
    /// Arriving through one of these interfaces (prerouting hook).
    case inputInterface([String])
}
