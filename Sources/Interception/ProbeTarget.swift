/// Where `sidecar-init probe` dials: a destination the installed rules must redirect for the given settings.
public struct ProbeTarget: Sendable, Hashable, CustomStringConvertible {
    public let address: IPNetwork
    public let port: UInt16

    /// Documentation addresses (RFC 5737, RFC 3849): never a real service, so a probe that escapes capture reaches
    /// nothing.
    static let defaultCandidates = [
        IPNetwork(family: .ipv4, address: [192, 0, 2, 1], prefixLength: 32),
        IPNetwork(
            family: .ipv6, address: [0x20, 0x01, 0x0d, 0xb8] + [UInt8](repeating: 0, count: 11) + [1], prefixLength: 128
        ),
    ]

    /// The discard port, unless it is excluded; then the first port not excluded.
    static let preferredPort: UInt16 = 9

    /// One target per captured family, or none for a family that nothing captures. With included CIDRs the target is
    /// the first address of the first included network (of that family) not also excluded.
    public static func targets(for config: InterceptionConfig) -> [ProbeTarget] {
        let families: [IPNetwork.Family] = config.ipv4Only ? [.ipv4] : [.ipv4, .ipv6]
        guard let port = capturedPort(config) else { return [] }
        return families.compactMap { family in
            let candidates: [IPNetwork] =
                if let included = config.includedOutboundCIDRs {
                    IPNetwork.normalized(included.filter { $0.family == family }).map(\.firstHost)
                } else {
                    defaultCandidates.filter { $0.family == family }
                }
            let address = candidates.first { candidate in
                !config.excludedOutboundCIDRs.contains { $0.contains(candidate) } && !candidate.isLoopback
            }
            return address.map { ProbeTarget(address: $0, port: port) }
        }
    }

    private static func capturedPort(_ config: InterceptionConfig) -> UInt16? {
        let excluded = config.excludedOutboundPorts + (config.redirectDNS ? [PortRange(53)] : [])
        func isCaptured(_ port: UInt16) -> Bool { !excluded.contains { $0.contains(port) } }
        if isCaptured(preferredPort) { return preferredPort }
        return (1...UInt16.max).first(where: isCaptured)
    }

    public var description: String {
        address.family == .ipv4 ? "\(address.addressText):\(port)" : "[\(address.addressText)]:\(port)"
    }
}

extension IPNetwork {
    /// The network's first address as a single host (the network address itself for a /31, /32, /127 or /128).
    var firstHost: IPNetwork {
        var bytes = address
        if family.addressLength * 8 - prefixLength >= 2 { bytes[bytes.count - 1] |= 1 }
        return IPNetwork(family: family, address: bytes, prefixLength: family.addressLength * 8)
    }

    var isLoopback: Bool {
        IPNetwork.ipv4Loopback.contains(self) || IPNetwork.ipv6Loopback.contains(self)
    }
}
