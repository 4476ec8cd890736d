import NIOCore
import NIOPosix
import Policy

#if canImport(Glibc)
    import Glibc
#endif

/// TCP keepalive on the proxy's sockets, as `timeouts.keepalive` says: probes start after that much silence, so a
/// peer that vanished without a FIN or a reset releases both of a relayed connection's descriptors within about
/// `keepalive + 60s`, whatever the idle timeout.
struct TCPKeepalive {
    /// The options, with their values, made once per configuration snapshot's use.
    let options: [(ChannelOptions.Types.SocketOption, SocketOptionValue)]

    init(_ timeouts: ProxyConfiguration.Timeouts) {
        let idleSeconds = max(1, Int(timeouts.keepalive.components.seconds))
        options = [
            (.init(level: .socket, name: .so_keepalive), 1),
            (.init(level: .tcp, name: NIOBSDSocket.Option(rawValue: TCP_KEEPIDLE)), SocketOptionValue(idleSeconds)),
            (
                .init(level: .tcp, name: NIOBSDSocket.Option(rawValue: TCP_KEEPINTVL)),
                SocketOptionValue(ProxyConfiguration.Timeouts.keepaliveProbeInterval)
            ),
            (
                .init(level: .tcp, name: NIOBSDSocket.Option(rawValue: TCP_KEEPCNT)),
                SocketOptionValue(ProxyConfiguration.Timeouts.keepaliveProbes)
            ),
        ]
    }

    /// On a listening socket: accepted sockets inherit the options (Linux), at no cost per connection.
    func apply(to bootstrap: ServerBootstrap) -> ServerBootstrap {
        options.reduce(bootstrap) { $0.serverChannelOption($1.0, value: $1.1) }
    }

    /// On a socket the proxy opens, before it connects.
    func set(on channel: Channel) throws {
        for (option, value) in options { try channel.syncOptions?.setOption(option, value: value) }
    }
}
