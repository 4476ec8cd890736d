import Logging
import NIOCore
import NIOExtras
import NIOPosix
import ServiceLifecycle

/// The DNS listener on 127.0.0.1:15053, UDP and TCP, where `sidecar-init --redirect-dns` sends the pod's DNS. Serves
/// until graceful shutdown; queries are answered by `DNSForwarder`.
public struct DNSProxyService: Service {
    private let forwarder: DNSForwarder
    private let host: String
    private let port: Int
    private let logger: Logger

    public init(forwarder: DNSForwarder, host: String = "127.0.0.1", port: Int, logger: Logger) {
        self.forwarder = forwarder
        self.host = host
        self.port = port
        self.logger = logger
    }

    public func run() async throws {
        let group = MultiThreadedEventLoopGroup.singleton
        let forwarder = self.forwarder
        let datagrams = try await DatagramBootstrap(group: group)
            .channelOption(.socketOption(.so_reuseaddr), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(DNSDatagramHandler(forwarder: forwarder))
                }
            }
            .bind(host: host, port: port).get()
        // Through `bindListener`, as the capture listeners: out of descriptors, accepting pauses rather than spins.
        let streams: Channel?
        do {
            streams = try await ServerBootstrap(group: group)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .childChannelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandlers([
                            // A TCP client sends queries framed by their length, and may send several.
                            ByteToMessageHandler(LengthFieldBasedFrameDecoder(lengthFieldBitLength: .twoBytes)),
                            LengthFieldPrepender(lengthFieldBitLength: .twoBytes),
                            IdleStateHandler(allTimeout: .seconds(10)),
                            DNSStreamHandler(forwarder: forwarder),
                        ])
                    }
                }
                .bindListener(host: host, port: port, logger: logger, role: "dns")
        } catch {
            try? await datagrams.close()
            throw error
        }
        logger.info("listening", metadata: ["listener": "dns", "address": "\(host):\(port)", "transport": "udp"])
        try? await gracefulShutdown()
        try? await datagrams.close()
        try? await streams?.close()
    }
}
