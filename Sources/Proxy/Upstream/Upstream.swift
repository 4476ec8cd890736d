import Identity
import NIOCore
import NIOPosix
import NIOSSL
import Policy

/// Where a connection's bytes or requests go: the original destination, or, when that is a service's address, one of
/// the service's endpoints. It opens connections there (from the right source, within the connect timeout, with TCP
/// keepalive; for a service, moving on to another endpoint when one fails to connect), and it is the one place that
/// hears how they went (connected, answered, failed to answer), which the service's balancer and outlier detection
/// live on. Every opened channel is handed over connected and with an empty pipeline, the same for a service's
/// endpoint and a plain destination: whoever dialed adds its handlers then. To a meshed destination the pipeline holds
/// the TLS handler, and the channel is handed over only once mutual TLS is established with an identity the plan
/// accepts: a failed handshake is a failed connect (the endpoint counts it, retries apply), never plaintext.
struct Upstream: Sendable {
    let direction: TrafficDirection
    let destination: OriginalDestination
    let connectTimeout: TimeAmount
    let keepalive: TCPKeepalive
    /// The service the destination is the address of.
    let service: ServiceRuntime?
    /// To a meshed destination: how mutual TLS is originated, and the contexts of the identity in force when the
    /// connection was planned (nil when there is none: every connect then fails).
    let mesh: (origination: MeshOrigination, contexts: MeshTLSContexts?)?
    /// Told, on the client's event loop, how each mesh handshake ended (the server's identity, or why it failed) and
    /// how long it took.
    let meshHandshakeEnded: NIOLoopBound<(Result<SPIFFEID, MeshHandshakeFailure>, Duration) -> Void>?
    /// Where kept-alive HTTP/1.1 connections wait for the next request, and shared mesh connections carry streams.
    let pools: UpstreamPools

    /// Connects on `eventLoop` (the client's, so both sides share one loop and need no locks).
    /// - Parameter excluding: a service's endpoints not to use (a retried request's earlier ones).
    func connect(on eventLoop: EventLoop, excluding: Set<SocketAddress> = []) -> EventLoopFuture<Channel> {
        guard let service else { return connect(to: destination.address, on: eventLoop) }
        return service.dial(on: eventLoop, excluding: excluding) { address in
            connect(to: address, on: eventLoop).map(UpstreamLease.init(opened:))
        }.map(\.channel)
    }

    /// How an HTTP/1.1 client connection uses its connections here: a stream of a shared mesh connection, or a
    /// service's endpoint, per request; a meshed destination's own mutual TLS connection for the client's life;
    /// otherwise a pooled one, kept while the client keeps its connection alive.
    var http1Use: HTTP1UpstreamUse {
        if let mesh { return mesh.origination.sharesConnections ? .perRequest : .ownConnection }
        return service == nil ? .pooled : .perRequest
    }

    /// An HTTP/1.1 connection for one request, on `eventLoop`: for a service, to the endpoint its balancer picks
    /// for this request; an idle one from the loop's pool when there is one (unless `fresh`), else a new one, which
    /// goes back to the pool once a response on it is read in full. A reused connection's pipeline already holds
    /// its `HTTP1UpstreamHandler`; a new one's is empty. To a meshed destination that shares connections, a
    /// request that `shares` is a new stream of the shared connection there (`meshStreamPeer` set); one that does
    /// not (HTTP/1.0, `Upgrade`, `CONNECT`) gets a mutual TLS connection of its own, as every request does where
    /// connections are not shared.
    /// - Parameters:
    ///   - fresh: open a new connection: a pooled one just failed a request before answering.
    ///   - shares: the request leaves its connection free for others once answered.
    func leaseHTTP1(on eventLoop: EventLoop, excluding: Set<SocketAddress>, fresh: Bool, shares: Bool)
        -> EventLoopFuture<UpstreamLease>
    {
        if mesh?.origination.sharesConnections == true, shares {
            let open = { @Sendable (address: SocketAddress) in pooledStream(to: address, on: eventLoop) }
            guard let service else { return open(destination.address) }
            return service.dial(on: eventLoop, excluding: excluding, connect: open)
        }
        let pool = mesh == nil ? pools.http1(on: eventLoop).map { NIOLoopBound($0, eventLoop: eventLoop) } : nil
        let open = { @Sendable (address: SocketAddress) -> EventLoopFuture<UpstreamLease> in
            let key = HTTP1ConnectionPool.Key(direction: direction, endpoint: address)
            if !fresh, let idle = pool?.value.take(key) { return eventLoop.makeSucceededFuture(idle) }
            return connect(to: address, on: eventLoop).map { channel in
                pool?.value.lease(opened: channel, key: key) ?? UpstreamLease(opened: channel)
            }
        }
        guard let service else { return open(destination.address) }
        return service.dial(on: eventLoop, excluding: excluding, connect: open)
    }

    /// A new HTTP/2 stream for one request, on `eventLoop`: for a service, to the endpoint its balancer picks for this
    /// stream, which counts as loaded there until the stream ends. The stream is on a connection the loop shares
    /// there, so the streams of every client connection on the loop ride the same few connections.
    /// - Parameter excluding: a service's endpoints not to use (a retried request's earlier ones).
    func openHTTP2Stream(on eventLoop: EventLoop, excluding: Set<SocketAddress> = []) -> EventLoopFuture<UpstreamLease>
    {
        let open = { @Sendable (address: SocketAddress) in pooledStream(to: address, on: eventLoop) }
        guard let service else { return open(destination.address) }
        return service.dial(on: eventLoop, excluding: excluding, connect: open)
    }

    /// Whether an HTTP/2 stream asked for now waits for a connection to open (what `maxPendingRequests` bounds): no
    /// shared connection is up to the destination, or to any of a service's endpoints.
    func http2StreamWaits(on eventLoop: EventLoop) -> Bool {
        guard let pool = pools.http2(on: eventLoop) else { return true }
        let endpoints = service?.addresses ?? [destination.address]
        return !endpoints.contains { address in http2Key(to: address).map(pool.isReady) ?? false }
    }

    /// A stream of a shared HTTP/2 connection to `address`: plaintext, or mutual TLS to a sidecar offering
    /// `sidecar.mesh/streams` where the plan shares connections (the app's HTTP/1.1 and HTTP/2 alike) and the
    /// plan's own ALPN otherwise. A mesh stream's lease names the identity the sidecar proved.
    private func pooledStream(to address: SocketAddress, on eventLoop: EventLoop) -> EventLoopFuture<UpstreamLease> {
        guard let key = http2Key(to: address) else {
            return eventLoop.makeFailedFuture(MeshHandshakeFailure.noIdentity)
        }
        guard let pool = pools.http2(on: eventLoop).map({ NIOLoopBound($0, eventLoop: eventLoop) }) else {
            return eventLoop.makeFailedFuture(ChannelError.inappropriateOperationForState)
        }
        return pool.value.openStream(key) {
            guard let security = key.mesh, var origination = mesh?.origination else {
                return connectPlain(to: address, on: eventLoop).map { ($0, nil) }
            }
            origination.alpn = security.alpn
            return connectSecured(to: address, on: eventLoop, origination, security.contexts).map { ($0.0, $0.1) }
        }.map { stream, peer in
            var lease = UpstreamLease(opened: stream)
            lease.meshStreamPeer = peer
            return lease
        }
    }

    /// Where a stream to `address` is pooled; nil for a meshed destination without an identity of ours in force.
    private func http2Key(to address: SocketAddress) -> HTTP2ConnectionPool.Key? {
        guard let mesh else { return HTTP2ConnectionPool.Key(direction: direction, endpoint: address, mesh: nil) }
        guard let contexts = mesh.contexts else { return nil }
        let origination = mesh.origination
        let security = HTTP2ConnectionPool.MeshSecurity(
            expectedPeers: origination.expectedPeers, contexts: contexts,
            alpn: origination.sharesConnections ? .streams : origination.alpn)
        return HTTP2ConnectionPool.Key(direction: direction, endpoint: address, mesh: security)
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
        guard let mesh else { return connectPlain(to: address, on: eventLoop) }
        return connectSecured(to: address, on: eventLoop, mesh.origination, mesh.contexts).map(\.0)
    }

    /// A connection with mutual TLS established, and the identity its server proved.
    private func connectSecured(
        to address: SocketAddress, on eventLoop: EventLoop, _ origination: MeshOrigination,
        _ contexts: MeshTLSContexts?
    ) -> EventLoopFuture<(Channel, SPIFFEID)> {
        connectPlain(to: address, on: eventLoop).flatMap { channel in
            originateMeshTLS(on: channel, origination, contexts)
        }
    }

    private func connectPlain(to address: SocketAddress, on eventLoop: EventLoop) -> EventLoopFuture<Channel> {
        var bootstrap = ClientBootstrap(group: eventLoop)
        if direction == .inbound, destination.address.protocol == .inet {
            bootstrap = bootstrap.fromInboundDeliverySource()
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

    /// Mutual TLS on a connected channel: the handshake within the connect timeout, the server's leaf under the
    /// X.509-SVID rules and its identity one the plan expects. On failure the channel is closed.
    private func originateMeshTLS(
        on channel: Channel, _ origination: MeshOrigination, _ contexts: MeshTLSContexts?
    ) -> EventLoopFuture<(Channel, SPIFFEID)> {
        let established = channel.eventLoop.makePromise(of: (Channel, SPIFFEID).self)
        let started = ContinuousClock.now
        let end = { (result: Result<SPIFFEID, MeshHandshakeFailure>) in
            meshHandshakeEnded?.value(result, ContinuousClock.now - started)
            switch result {
            case .success(let peer): established.succeed((channel, peer))
            case .failure(let failure): established.fail(failure)
            }
        }
        let trustDomain = contexts?.identity.id.trustDomain
        let handshake = MeshHandshakeHandler(timeout: connectTimeout) { result in
            switch result {
            case .success(let session) where origination.accepts(session.peer, ourTrustDomain: trustDomain ?? ""):
                end(.success(session.peer))
            case .success(let session):
                end(.failure(.unexpectedPeer(session.peer)))
            case .failure(let failure):
                end(.failure(failure))
            }
        }
        do {
            guard let contexts else { throw MeshHandshakeFailure.noIdentity }
            let tls = try NIOSSLClientHandler(context: contexts.client(offering: origination.alpn), serverHostname: nil)
            try channel.pipeline.syncOperations.addHandlers(tls, TLSCleanEndHandler(), handshake)
        } catch {
            end(.failure(error as? MeshHandshakeFailure ?? .tls("\(error)")))
        }
        established.futureResult.whenFailure { _ in channel.close(promise: nil) }
        return established.futureResult
    }
}
