import NIOCore
import NIOPosix

extension ClientBootstrap {
    /// Connects from 127.0.0.6, which the capture rules let pass: a connection from the proxy to the pod's own
    /// address would otherwise be taken for a self-call and sent back to the inbound listener.
    /// IP_BIND_ADDRESS_NO_PORT: the port is picked at connect time, per destination, so connections are not capped
    /// by the ephemeral port range.
    func fromInboundDeliverySource() -> ClientBootstrap {
        channelOption(ChannelOptions.Types.SocketOption(level: .ip, name: Self.bindAddressNoPort), value: 1)
            .bind(to: Self.inboundDeliverySource)
    }

    /// `IP_BIND_ADDRESS_NO_PORT` from <linux/in.h>, which Swift's Glibc module does not export.
    private static let bindAddressNoPort = NIOBSDSocket.Option(rawValue: 24)

    /// `InterceptionConfig.inboundDeliverySource`: the address the capture rules let through from the proxy.
    private static let inboundDeliverySource = try! SocketAddress(ipAddress: "127.0.0.6", port: 0)
}
