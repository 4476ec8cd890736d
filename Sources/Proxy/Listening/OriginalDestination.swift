import NIOCore

#if canImport(Glibc)
    import Glibc
#endif

/// Where a redirected connection was headed before netfilter sent it to the proxy.
public struct OriginalDestination: Hashable, Sendable, CustomStringConvertible {
    public let address: SocketAddress

    public init(address: SocketAddress) {
        self.address = address
    }

    /// Decodes the `sockaddr_in` or `sockaddr_in6` that `SO_ORIGINAL_DST` / `IP6T_SO_ORIGINAL_DST` fill in.
    public init?(sockaddr bytes: some Collection<UInt8>) {
        guard let address = SocketAddress(kernelSockaddr: bytes) else { return nil }
        self.address = address
    }

    public var port: Int { address.port ?? 0 }

    /// True for 127.0.0.0/8 and ::1: such a destination is the pod itself.
    public var isLoopback: Bool {
        switch address {
        case .v4(let v4): UInt32(bigEndian: v4.address.sin_addr.s_addr) >> 24 == 127
        case .v6: address.ipAddress == "::1"
        default: false
        }
    }

    public var description: String { address.endpoint }
}
