import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import ServiceLifecycle

/// A small HTTP server for the proxy's own endpoints (telemetry on 15020, admin on 15000), as a service that
/// serves until shutdown.
public struct HTTPEndpointServer: Service {
    private let name: String
    private let hosts: [String]
    private let port: Int
    private let endpoints: [HTTPEndpoint]
    private let logger: Logger

    /// - Parameter hosts: addresses to bind; an IPv6 one on a host without IPv6 is skipped with a warning.
    public init(name: String, hosts: [String], port: Int, endpoints: [HTTPEndpoint], logger: Logger) {
        self.name = name
        self.hosts = hosts
        self.port = port
        self.endpoints = endpoints
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
        return try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(HTTPEndpointHandler(endpoints: endpoints))
                }
            }
            .bindListener(host: host, port: port, logger: logger, role: name)
    }
}
