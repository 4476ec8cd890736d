import Logging
import NIOCore
import NIOPosix

#if canImport(Glibc)
    import Glibc
#endif

extension ServerBootstrap {
    /// Binds one listening socket of the proxy. An IPv6 socket is made v6-only, since the IPv4 listener on the same
    /// port already takes IPv4 (NIO would make it dual-stack). On a host without IPv6 the IPv6 listener is skipped
    /// with a warning and nil returned: such pods exist, and their IPv4 traffic must still be served.
    ///
    /// When accepting fails for want of resources (out of file descriptors, `EMFILE`), the listener logs it and
    /// pauses accepting for a second rather than retrying at once in a busy loop, then goes on: connections wait in
    /// the backlog meanwhile.
    public func bindListener(host: String, port: Int, logger: Logger, role: String) async throws -> Channel? {
        let isIPv6 = host.contains(":")
        let resilient = serverChannelInitializer { channel in
            channel.eventLoop.makeCompletedFuture {
                try channel.pipeline.syncOperations.addHandler(AcceptFailureHandler(logger: logger, role: role))
            }
        }
        let bootstrap =
            isIPv6
            ? resilient.serverChannelOption(
                ChannelOptions.Types.SocketOption(level: .ipv6, name: .ipv6_v6only), value: 1)
            : resilient
        let address = isIPv6 ? "[\(host)]:\(port)" : "\(host):\(port)"
        do {
            let channel = try await bootstrap.bind(host: host, port: port).get()
            logger.info("listening", metadata: ["listener": "\(role)", "address": "\(address)"])
            return channel
        } catch let error as IOError where isIPv6 && [EAFNOSUPPORT, EADDRNOTAVAIL].contains(error.errnoCode) {
            logger.warning(
                "IPv6 unavailable; listener skipped", metadata: ["listener": "\(role)", "address": "\(address)"])
            return nil
        }
    }
}
