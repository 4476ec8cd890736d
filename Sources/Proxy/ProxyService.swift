import Logging
import NIOCore
import NIOPosix
import Policy
import ServiceLifecycle

#if canImport(Glibc)
import Glibc
#endif

/// The capture listeners and everything they accept, as one service: it serves until graceful shutdown, then
/// stops accepting, gives open connections the drain time to finish, and closes what is left.
public struct ProxyService: Service {
    private let configuration: ProxyConfiguration
    private let reader: any OriginalDestinationReader
    private let registry: ConnectionRegistry
    private let logger: Logger
    private let onReady: @Sendable () -> Void
    private let onDrain: @Sendable () -> Void

    /// - Parameters:
    ///   - onReady: called once every listener is bound.
    ///   - onDrain: called when graceful shutdown starts, before the listeners close.
    public init(
        configuration: ProxyConfiguration, reader: any OriginalDestinationReader = KernelOriginalDestinationReader(),
        registry: ConnectionRegistry, logger: Logger, onReady: @escaping @Sendable () -> Void,
        onDrain: @escaping @Sendable () -> Void
    ) {
        self.configuration = configuration
        self.reader = reader
        self.registry = registry
        self.logger = logger
        self.onReady = onReady
        self.onDrain = onDrain
    }

    public func run() async throws {
        let listeners = CaptureListener.all(
            outboundPort: configuration.listeners.outbound, inboundPort: configuration.listeners.inbound)
        var channels: [Channel] = []
        do {
            for listener in listeners {
                if let channel = try await bind(listener) { channels.append(channel) }
            }
        } catch {
            for channel in channels { try? await channel.close() }
            throw error
        }
        onReady()
        let shutdownRequested: Bool
        do {
            try await gracefulShutdown()
            shutdownRequested = true
        } catch {
            shutdownRequested = false
        }
        onDrain()
        for channel in channels { try? await channel.close() }
        if shutdownRequested { await drain() }
        registry.closeAll()
        await registry.waitUntilEmpty()
        logger.info("proxy stopped")
    }

    /// Waits for open connections to finish, up to the drain timeout.
    private func drain() async {
        let open = registry.count
        logger.info("draining", metadata: ["open": "\(open)", "timeout": "\(configuration.timeouts.drain)"])
        guard open > 0 else { return }
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await registry.waitUntilEmpty() }
            group.addTask { try? await Task.sleep(for: configuration.timeouts.drain) }
            await group.next()
            // Whichever finished first, close the rest so the other task ends too.
            registry.closeAll()
            group.cancelAll()
        }
    }

    /// Binds one listener. An IPv6 listener on a host without IPv6 is skipped with a warning: such pods exist, and
    /// their IPv4 traffic must still be served.
    private func bind(_ listener: CaptureListener) async throws -> Channel? {
        let forwarder = ConnectionForwarder(
            direction: listener.direction, configuration: configuration, reader: reader, registry: registry,
            logger: logger)
        var bootstrap = ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.backlog, value: 1024)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.autoRead, value: false)
            .childChannelOption(.allowRemoteHalfClosure, value: true)
            .childChannelOption(.tcpOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                forwarder.forward(channel)
                return channel.eventLoop.makeSucceededVoidFuture()
            }
        if listener.isIPv6 {
            // NIO makes IPv6 sockets dual-stack; the IPv4 listener already holds the port.
            bootstrap = bootstrap.serverChannelOption(
                ChannelOptions.Types.SocketOption(level: .ipv6, name: .ipv6_v6only), value: 1)
        }
        do {
            let channel = try await bootstrap.bind(host: listener.host, port: listener.port).get()
            logger.info("listening", metadata: ["direction": "\(listener.direction)", "address": "\(listener)"])
            return channel
        } catch let error as IOError where listener.isIPv6 && [EAFNOSUPPORT, EADDRNOTAVAIL].contains(error.errnoCode) {
            logger.warning("IPv6 unavailable; listener skipped", metadata: ["address": "\(listener)"])
            return nil
        }
    }
}
