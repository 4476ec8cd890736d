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
    /// The family is read in host byte order, the port and address are kept in network byte order, as the kernel
    /// writes them. Builds the address in place, with no intermediate buffer: this runs for every connection.
    public init?(sockaddr bytes: some Collection<UInt8>) {
        var storage = sockaddr_storage()
        guard bytes.count >= 2, bytes.count <= MemoryLayout<sockaddr_storage>.size else { return nil }
        withUnsafeMutableBytes(of: &storage) { $0.copyBytes(from: bytes) }
        switch Int32(storage.ss_family) {
        case AF_INET where bytes.count >= 8:
            let written = withUnsafeBytes(of: storage) { $0.load(as: sockaddr_in.self) }
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = written.sin_port
            address.sin_addr = written.sin_addr
            self.address = SocketAddress(address, host: "")
        case AF_INET6 where bytes.count >= 24:
            let written = withUnsafeBytes(of: storage) { $0.load(as: sockaddr_in6.self) }
            var address = sockaddr_in6()
            address.sin6_family = sa_family_t(AF_INET6)
            address.sin6_port = written.sin6_port
            address.sin6_addr = written.sin6_addr
            self.address = SocketAddress(address, host: "")
        default:
            return nil
        }
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
