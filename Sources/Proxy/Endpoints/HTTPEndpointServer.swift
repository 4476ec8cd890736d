import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import ServiceLifecycle

/// A small HTTP server for the proxy's own endpoints (telemetry on 15020, admin on 15000), as a service that
/// serves until shutdown.
///
/// A side door, bounded so that it can never take what the data path needs: at most `maxConnections` at once (one
/// more takes the place of the connection that has waited longest for a request, or is closed as soon as it is
/// accepted when all are busy), and each connection must send a whole request within `requestTimeout` of opening or
/// of its last answer, or it is closed. Held connections, slow headers and idle
/// keep-alives from anyone who can reach the port (15020 is on every address) then cost a bounded number of
/// descriptors, and the capture listeners keep theirs.
public struct HTTPEndpointServer: Service {
    private let name: String
    private let hosts: [String]
    private let port: Int
    private let endpoints: [HTTPEndpoint]
    private let requestTimeout: TimeAmount
    private let maxRequestBody: Int
    /// Served over TLS with the context this gives at each new connection (so renewed credentials take effect
    /// without a restart); plaintext when nil.
    private let tls: (@Sendable () -> NIOSSLContext)?
    private let logger: Logger
    /// Connections open now, across this server's listeners.
    private let connections: SideDoorConnections

    /// - Parameters:
    ///   - hosts: addresses to bind; an IPv6 one on a host without IPv6 is skipped with a warning.
    ///   - maxConnections: connections served at once; Prometheus and the kubelet need a handful.
    ///   - maxRequestBody: bytes of a request body handed to the endpoint; zero ignores bodies.
    public init(
        name: String, hosts: [String], port: Int, endpoints: [HTTPEndpoint], maxConnections: Int = 64,
        requestTimeout: TimeAmount = .seconds(10), maxRequestBody: Int = 0, tls: (@Sendable () -> NIOSSLContext)? = nil,
        logger: Logger
    ) {
        self.name = name
        self.hosts = hosts
        self.port = port
        self.endpoints = endpoints
        connections = SideDoorConnections(capacity: maxConnections)
        self.requestTimeout = requestTimeout
        self.maxRequestBody = maxRequestBody
        self.tls = tls
        self.logger = logger
    }

    public func run() async throws {
        var channels: [Channel] = []
        defer {
            for channel in channels { channel.close(promise: nil) }
        }
        for host in hosts {
            if let channel = try await bind(host) { channels.append(channel) }
        }
        // Keep serving until shutdown reaches this service; the proxy drains before, so probes see "not ready".
        try? await gracefulShutdown()
    }

    private func bind(_ host: String) async throws -> Channel? {
        let endpoints = self.endpoints
        let (connections, requestTimeout, maxRequestBody, tls, logger, name) = (
            self.connections, self.requestTimeout, self.maxRequestBody, self.tls, self.logger, self.name
        )
        return try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                guard connections.admit(channel) else {
                    logger.debug("connection refused: every connection busy", metadata: ["listener": "\(name)"])
                    return channel.close()
                }
                channel.closeFuture.whenComplete { _ in connections.remove(channel) }
                return channel.eventLoop.makeCompletedFuture {
                    if let tls {
                        try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: tls()))
                    }
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(
                        HTTPEndpointHandler(
                            endpoints: endpoints, requestTimeout: requestTimeout, maxRequestBody: maxRequestBody,
                            waiting: { connections.mark(channel, waiting: $0) }))
                }
            }
            .bindListener(host: host, port: port, logger: logger, role: name)
    }
}
