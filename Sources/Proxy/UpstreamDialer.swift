import NIOCore
import NIOPosix
import Policy

/// Opens the proxy's side of a connection: to the original destination (or, when that is a service's address, to
/// one of its endpoints), from the right source, within the connect timeout, with the socket options both the byte
/// relay and the HTTP proxy need (TCP keepalive among them).
struct UpstreamDialer: Sendable {
    let direction: TrafficDirection
    let destination: OriginalDestination
    let connectTimeout: TimeAmount
    let keepalive: TCPKeepalive
    /// The service the destination is the address of.
    let service: ServiceRuntime?

    /// Connects on `eventLoop` (the client's, so both sides share one loop and need no locks); `initializer` sets
    /// up the new channel's pipeline before it connects.
    /// - Parameter excluding: a service's endpoints not to use (a retried request's earlier ones).
    func connect(
        on eventLoop: EventLoop, excluding: Set<SocketAddress> = [],
        initializer: @escaping @Sendable (Channel) -> EventLoopFuture<Void>
    ) -> EventLoopFuture<Channel> {
        guard let service else { return connect(to: destination.address, on: eventLoop, initializer: initializer) }
        // A service's connect may be tried again on another endpoint: the pipeline is set up once, on the
        // connection that opened, since handlers added to a channel that failed are removed with it.
        return service.dial(on: eventLoop, excluding: excluding) { address in
            connect(to: address, on: eventLoop) { $0.eventLoop.makeSucceededVoidFuture() }
        }.flatMap { channel in
            initializer(channel).map { channel }.flatMapError { error in
                channel.close(promise: nil)
                return eventLoop.makeFailedFuture(error)
            }
        }
    }

    private func connect(
        to address: SocketAddress, on eventLoop: EventLoop,
        initializer: @escaping @Sendable (Channel) -> EventLoopFuture<Void>
    ) -> EventLoopFuture<Channel> {
        var bootstrap = ClientBootstrap(group: eventLoop)
        if direction == .inbound, destination.address.protocol == .inet {
            // Delivered from 127.0.0.6, which the rules let pass: a connection from the proxy to the pod's own
            // address would otherwise be taken for a self-call and sent back to the inbound listener.
            // IP_BIND_ADDRESS_NO_PORT: the port is picked at connect time, per destination, so deliveries are not
            // capped by the ephemeral port range.
            bootstrap =
                bootstrap
                .channelOption(ChannelOptions.Types.SocketOption(level: .ip, name: Self.bindAddressNoPort), value: 1)
                .bind(to: Self.inboundDeliverySource)
        }
        return
            bootstrap
            .connectTimeout(connectTimeout)
            // TCP_NODELAY is ClientBootstrap's default.
            .channelInitializer { channel in
                // Set synchronously: bootstrap channel options are applied through a chain of futures per connection.
                do {
                    try channel.syncOptions?.setOption(.allowRemoteHalfClosure, value: true)
                    try keepalive.set(on: channel)
                } catch {
                    return channel.eventLoop.makeFailedFuture(error)
                }
                return initializer(channel)
            }
            .connect(to: address)
    }

    /// `IP_BIND_ADDRESS_NO_PORT` from <linux/in.h>, which Swift's Glibc module does not export.
    private static let bindAddressNoPort = NIOBSDSocket.Option(rawValue: 24)

    /// `InterceptionConfig.inboundDeliverySource`: the address the capture rules let through from the proxy.
    private static let inboundDeliverySource = try! SocketAddress(ipAddress: "127.0.0.6", port: 0)
}
