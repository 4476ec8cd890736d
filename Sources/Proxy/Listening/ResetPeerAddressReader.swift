import NIOCore

#if canImport(Glibc)
    import Glibc
#endif

/// The address of a client that reset its connection before the proxy accepted it, as a connect scan does with
/// every port it finds open. `getpeername` refuses a closed socket, so NIO knows no remote address for it; Linux
/// still answers `getsockopt(SO_PEERNAME)`, which skips that state check. Without it, a scan's connections would
/// have no source to count against, or to block.
enum ResetPeerAddressReader {
    /// `SO_PEERNAME` from <asm-generic/socket.h>, at level `SOL_SOCKET`.
    static let soPeerName: Int32 = 28

    /// The peer's address; nil when the kernel does not know it either. The kernel answers only a length no longer
    /// than the address it has, so the family is asked for by the listener's.
    static func peerAddress(of channel: Channel) -> EventLoopFuture<SocketAddress?> {
        guard let provider = channel as? SocketOptionProvider else { return channel.eventLoop.makeSucceededFuture(nil) }
        let name = NIOBSDSocket.Option(rawValue: soPeerName)
        let address: EventLoopFuture<SocketAddress?> =
            if channel.localAddress?.protocol == .inet6 {
                provider.unsafeGetSocketOption(level: .socket, name: name).map { (address: sockaddr_in6) in
                    withUnsafeBytes(of: address) { SocketAddress(kernelSockaddr: $0) }
                }
            } else {
                provider.unsafeGetSocketOption(level: .socket, name: name).map { (address: sockaddr_in) in
                    withUnsafeBytes(of: address) { SocketAddress(kernelSockaddr: $0) }
                }
            }
        return address.recover { _ in nil }
    }
}
