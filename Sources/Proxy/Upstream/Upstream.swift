import NIOCore
import NIOPosix
import Policy

/// Where a connection's bytes or requests go: the original destination, or, when that is a service's address, one of
/// the service's endpoints. It opens connections there (from the right source, within the connect timeout, with TCP
/// keepalive; for a service, moving on to another endpoint when one fails to connect), and it is the one place that
/// hears how they went (connected, answered, failed to answer), which the service's balancer and outlier detection
/// live on. Every opened channel is handed over connected and with an empty pipeline, the same for a service's
/// endpoint and a plain destination: whoever dialed adds its handlers then. (Mutual TLS to a meshed destination will
/// be one more step of `connect`.)
struct Upstream: Sendable {
    let direction: TrafficDirection
    let destination: OriginalDestination
    let connectTimeout: TimeAmount
    let keepalive: TCPKeepalive
    /// The service the destination is the address of.
    let service: ServiceRuntime?

    /// Connects on `eventLoop` (the client's, so both sides share one loop and need no locks).
    /// - Parameter excluding: a service's endpoints not to use (a retried request's earlier ones).
    func connect(on eventLoop: EventLoop, excluding: Set<SocketAddress> = []) -> EventLoopFuture<Channel> {
        guard let service else { return connect(to: destination.address, on: eventLoop) }
        return service.dial(on: eventLoop, excluding: excluding) { address in connect(to: address, on: eventLoop) }
    }

    /// A relayed connection to `endpoint` opened: for a service, that endpoint did its part.
    func connected(to endpoint: SocketAddress?) {
        guard let service, let endpoint else { return }
        service.succeeded(endpoint)
    }

    /// `endpoint` answered an HTTP request with `status` (502 for closing before any answer, 504 for none within the
    /// request timeout): for a service, a 5xx counts towards leaving that endpoint out.
    func answered(_ status: Int, by endpoint: SocketAddress?) {
        guard let service, let endpoint else { return }
        service.responded(status, by: endpoint)
    }

    /// How often a request that failed before its answer began may be sent to another endpoint (none without a
    /// service).
    var retries: Int { service?.definition.retries ?? 0 }

    /// Whether a request that failed on the endpoints in `tried` may go to another one now (the retry budget is
    /// spent if so).
    func mayRetry(excluding tried: Set<SocketAddress>) -> Bool {
        service?.mayRetry(excluding: tried) ?? false
    }

    private func connect(to address: SocketAddress, on eventLoop: EventLoop) -> EventLoopFuture<Channel> {
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
                channel.eventLoop.makeCompletedFuture {
                    try channel.syncOptions?.setOption(.allowRemoteHalfClosure, value: true)
                    try keepalive.set(on: channel)
                }
            }
            .connect(to: address)
    }

    /// `IP_BIND_ADDRESS_NO_PORT` from <linux/in.h>, which Swift's Glibc module does not export.
    private static let bindAddressNoPort = NIOBSDSocket.Option(rawValue: 24)

    /// `InterceptionConfig.inboundDeliverySource`: the address the capture rules let through from the proxy.
    private static let inboundDeliverySource = try! SocketAddress(ipAddress: "127.0.0.6", port: 0)
}
