import Logging
import NIOCore
import NIOPosix
import Policy
import ServiceLifecycle
import Telemetry

/// The capture listeners and everything they accept, as one service: it serves until graceful shutdown, then
/// stops accepting, gives open connections the drain time to finish, and closes what is left.
public struct ProxyService: Service {
    private let configurations: ConfigurationStore
    private let reader: any OriginalDestinationReader
    private let registry: ConnectionRegistry
    private let limiter = TrafficLimiter()
    private let pools: UpstreamPools
    private let services: ServiceDirectory
    private let names: NameAddressBook
    private let mesh: MeshCredentials
    private let intrusion: IntrusionMonitor
    private let recorder: TrafficRecorder
    private let logger: Logger
    private let onReady: @Sendable () -> Void
    private let onDrain: @Sendable () -> Void

    /// - Parameters:
    ///   - onReady: called once every listener is bound.
    ///   - onDrain: called when graceful shutdown starts, before the listeners close.
    public init(
        configurations: ConfigurationStore, reader: any OriginalDestinationReader = KernelOriginalDestinationReader(),
        registry: ConnectionRegistry, services: ServiceDirectory, names: NameAddressBook, mesh: MeshCredentials,
        intrusion: IntrusionMonitor, recorder: TrafficRecorder, logger: Logger,
        onReady: @escaping @Sendable () -> Void,
        onDrain: @escaping @Sendable () -> Void
    ) {
        self.configurations = configurations
        self.reader = reader
        self.registry = registry
        self.services = services
        self.names = names
        self.mesh = mesh
        self.intrusion = intrusion
        self.recorder = recorder
        pools = UpstreamPools(loops: MultiThreadedEventLoopGroup.singleton.makeIterator(), recorder: recorder)
        self.logger = logger
        self.onReady = onReady
        self.onDrain = onDrain
    }

    public func run() async throws {
        // Listeners and the drain timeout are fixed for the process's life; a reload cannot change them.
        let configuration = configurations.current
        configurations.onReplace { [limiter] in limiter.prune(keeping: Set($0.limits.map(\.name))) }
        let listeners = CaptureAddress.all(
            outboundPort: configuration.listeners.outbound, inboundPort: configuration.listeners.inbound)
        var channels: [Channel] = []
        do {
            for listener in listeners {
                channels += try await bind(listener)
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
        if shutdownRequested {
            registry.quiesceAll()
            await drain(timeout: configuration.timeouts.drain)
        }
        registry.closeAll()
        await registry.waitUntilEmpty()
        logger.info("proxy stopped")
    }

    /// Waits for open connections to finish, up to the drain timeout.
    private func drain(timeout: Duration) async {
        let open = registry.count
        logger.info("draining", metadata: ["open": "\(open)", "timeout": "\(timeout)"])
        guard open > 0 else { return }
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await registry.waitUntilEmpty() }
            group.addTask { try? await Task.sleep(for: timeout) }
            await group.next()
            // Whichever finished first, close the rest so the other task ends too.
            registry.closeAll()
            group.cancelAll()
        }
    }

    /// One listening socket per event loop, in one `SO_REUSEPORT` group: the kernel spreads new connections over
    /// them, and each connection stays on the loop that accepted it, with its upstream, so no connection is handed
    /// from one thread to another.
    private func bind(_ listener: CaptureAddress) async throws -> [Channel] {
        let acceptor = ConnectionAcceptor(
            direction: listener.direction, configurations: configurations, reader: reader, registry: registry,
            limiter: limiter, services: services, pools: pools, names: names, mesh: mesh, intrusion: intrusion,
            recorder: recorder, logger: logger)
        var channels: [Channel] = []
        do {
            for loop in MultiThreadedEventLoopGroup.singleton.makeIterator() {
                guard let channel = try await bind(listener, on: loop, acceptor: acceptor) else { break }
                channels.append(channel)
            }
        } catch {
            for channel in channels { try? await channel.close() }
            throw error
        }
        return channels
    }

    /// `SO_REUSEPORT`, which NIO names no option for.
    private static let reusePort = NIOBSDSocket.Option(rawValue: SO_REUSEPORT)

    private func bind(_ listener: CaptureAddress, on loop: EventLoop, acceptor: ConnectionAcceptor) async throws
        -> Channel?
    {
        // Keepalive is the listener's, for the process's life: accepted sockets inherit it.
        try await TCPKeepalive(configurations.current.timeouts).apply(to: ServerBootstrap(group: loop))
            .serverChannelOption(.backlog, value: 1024)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .serverChannelOption(ChannelOptions.Types.SocketOption(level: .socket, name: Self.reusePort), value: 1)
            // TCP_NODELAY is ServerBootstrap's default for the listener, and accepted sockets inherit it (Linux).
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try acceptor.accept(channel) }
            }
            .bindListener(host: listener.host, port: listener.port, logger: logger, role: "\(listener.direction)")
    }
}
