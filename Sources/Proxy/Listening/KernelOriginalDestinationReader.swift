import NIOCore

#if canImport(Glibc)
    import Glibc
#endif

/// Reads the original destination from conntrack with `getsockopt(SO_ORIGINAL_DST)` (IPv4) or
/// `getsockopt(IP6T_SO_ORIGINAL_DST)` (IPv6). The only place in the project that asks the kernel for it.
public struct KernelOriginalDestinationReader: OriginalDestinationReader {
    /// Why the original destination could not be read.
    public enum Failure: Error, CustomStringConvertible {
        case notASocketChannel
        case undecodable
        public var description: String {
            switch self {
            case .notASocketChannel: "the channel has no socket"
            case .undecodable: "the kernel returned an address of an unknown family"
            }
        }
    }

    /// `SO_ORIGINAL_DST` from <linux/netfilter_ipv4.h>, at level `SOL_IP`.
    static let soOriginalDestination: Int32 = 80
    /// `IP6T_SO_ORIGINAL_DST` from <linux/netfilter_ipv6/ip6_tables.h>, at level `SOL_IPV6`; the same number.
    static let ip6tSoOriginalDestination: Int32 = 80

    public init() {}

    public func originalDestination(of channel: Channel) -> EventLoopFuture<OriginalDestination> {
        guard let provider = channel as? SocketOptionProvider else {
            return channel.eventLoop.makeFailedFuture(Failure.notASocketChannel)
        }
        let isIPv6 = channel.localAddress?.protocol == .inet6
        let level = isIPv6 ? NIOBSDSocket.OptionLevel.ipv6 : .ip
        let name = isIPv6 ? Self.ip6tSoOriginalDestination : Self.soOriginalDestination
        let storage: EventLoopFuture<sockaddr_storage> = provider.unsafeGetSocketOption(
            level: level, name: NIOBSDSocket.Option(rawValue: name))
        return storage.flatMapThrowing { storage in
            let decoded = withUnsafeBytes(of: storage) { OriginalDestination(sockaddr: $0) }
            guard let decoded else { throw Failure.undecodable }
            return decoded
        }
    }
}
