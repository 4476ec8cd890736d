import NIOCore

#if canImport(Glibc)
    import Glibc
#endif

extension SocketAddress {
    /// Decodes a `sockaddr_in` or `sockaddr_in6` as a `getsockopt` fills it in. The family is read in host byte
    /// order, the port and address are kept in network byte order, as the kernel writes them. Builds the address in
    /// place, with no intermediate buffer: this runs for every connection.
    init?(kernelSockaddr bytes: some Collection<UInt8>) {
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
            self = SocketAddress(address, host: "")
        case AF_INET6 where bytes.count >= 24:
            let written = withUnsafeBytes(of: storage) { $0.load(as: sockaddr_in6.self) }
            var address = sockaddr_in6()
            address.sin6_family = sa_family_t(AF_INET6)
            address.sin6_port = written.sin6_port
            address.sin6_addr = written.sin6_addr
            self = SocketAddress(address, host: "")
        default:
            return nil
        }
    }
}
