import Identity
import NIOCore
import NIOHTTP2
import Policy

/// One event loop's shared mutual TLS HTTP/2 connections to meshed destinations (ALPN `sidecar.mesh/streams`), by
/// destination: each HTTP/1.1 request of any app connection on the loop becomes a stream on a connection to where it
/// goes, so connection churn in the app costs the mesh no handshake. Up to `connectionsPerDestination` connections
/// are opened on demand (a stream asked for while none is up waits for the first), each new stream goes to the one
/// carrying the fewest, and a connection is shared until the peer sends GOAWAY or it closes, and closed once it has
/// carried no stream for `idleTimeout`. More than one, because the peer's kernel hands each connection to one of its
/// event loops: a single connection would confine the peer's work for this loop to one thread, and with several the
/// fewest-streams choice moves load off a busy one. NIO holds back streams beyond the peer's
/// `SETTINGS_MAX_CONCURRENT_STREAMS` until one ends, and flow control is per stream. Used only on its event loop.
final class MeshStreamPool {
    /// A connection is shared only where it goes to the same place, verified against the same expected identities,
    /// with the same identity of ours (a rotation opens new connections).
    struct Key: Hashable {
        let endpoint: SocketAddress
        let expectedPeers: [IdentityPattern]
        /// Held, not only named: a later identity's contexts can never take its place at the same address.
        let contexts: MeshTLSContexts

        static func == (left: Key, right: Key) -> Bool {
            left.endpoint == right.endpoint && left.expectedPeers == right.expectedPeers
                && left.contexts === right.contexts
        }

        func hash(into hasher: inout Hasher) {
            hasher.combine(endpoint)
            hasher.combine(expectedPeers)
            hasher.combine(ObjectIdentifier(contexts))
        }
    }

    /// A shared connection, with the identity its server proved and the streams it carries now.
    private final class Shared {
        let channel: Channel
        let multiplexer: NIOHTTP2Handler.StreamMultiplexer
        let peer: SPIFFEID
        var streams = 0

        init(channel: Channel, multiplexer: NIOHTTP2Handler.StreamMultiplexer, peer: SPIFFEID) {
            self.channel = channel
            self.multiplexer = multiplexer
            self.peer = peer
        }
    }

    /// The connections to one destination.
    private struct Destination {
        var ready: [Shared] = []
        var connecting = 0
        /// Streams asked for while no connection was up.
        var waiting: [(Result<Shared, Error>) -> Void] = []
    }

    let eventLoop: EventLoop
    let idleTimeout: TimeAmount
    let connectionsPerDestination: Int
    private var destinations: [Key: Destination] = [:]

    init(eventLoop: EventLoop, idleTimeout: TimeAmount = .seconds(60), connectionsPerDestination: Int = 4) {
        self.eventLoop = eventLoop
        self.idleTimeout = idleTimeout
        self.connectionsPerDestination = connectionsPerDestination
    }

    /// A new stream to `key`, on the connection there carrying the fewest, opening another with `dial` (a connected
    /// channel with mutual TLS established, and the server's identity) while every one is busy and there are fewer
    /// than `connectionsPerDestination`. The stream's pipeline is empty.
    func openStream(_ key: Key, dial: @escaping () -> EventLoopFuture<(Channel, SPIFFEID)>)
        -> EventLoopFuture<(Channel, SPIFFEID)>
    {
        let opened = eventLoop.makePromise(of: (Channel, SPIFFEID).self)
        var destination = destinations[key] ?? Destination()
        destination.ready.removeAll { !$0.channel.isActive }
        let quietest = destination.ready.min { $0.streams < $1.streams }
        let opens =
            (quietest?.streams ?? 1) > 0 && destination.ready.count + destination.connecting < connectionsPerDestination
        if quietest == nil {
            destination.waiting.append { result in
                switch result {
                case .success(let shared): self.createStream(on: shared, completing: opened)
                case .failure(let error): opened.fail(error)
                }
            }
        }
        if opens { destination.connecting += 1 }
        destinations[key] = destination
        if let quietest { createStream(on: quietest, completing: opened) }
        if opens { open(key, dial: dial) }
        return opened.futureResult
    }

    private func createStream(on shared: Shared, completing opened: EventLoopPromise<(Channel, SPIFFEID)>) {
        shared.streams += 1
        shared.multiplexer.createStreamChannel { $0.eventLoop.makeSucceededVoidFuture() }.assumeIsolated()
            .whenComplete { result in
                switch result {
                case .success(let stream):
                    stream.closeFuture.assumeIsolated().whenComplete { _ in shared.streams -= 1 }
                    opened.succeed((stream, shared.peer))
                case .failure(let error):
                    shared.streams -= 1
                    opened.fail(error)
                }
            }
    }

    private func open(_ key: Key, dial: () -> EventLoopFuture<(Channel, SPIFFEID)>) {
        dial().assumeIsolated().whenComplete { dialed in
            let result = dialed.flatMap { channel, peer in Result { try self.share(channel, peer: peer, as: key) } }
            var destination = self.destinations[key] ?? Destination()
            destination.connecting -= 1
            let waiting = destination.waiting
            switch result {
            case .success(let shared):
                destination.ready.append(shared)
                destination.waiting = []
                self.destinations[key] = destination
                for waiter in waiting { waiter(.success(shared)) }
            case .failure(let error):
                // The streams that waited fail once no connection is left to come; the next one dials again.
                let nothingComing = destination.ready.isEmpty && destination.connecting == 0
                if nothingComing { destination.waiting = [] }
                self.destinations[key] = nothingComing ? nil : destination
                if nothingComing { for waiter in waiting { waiter(.failure(error)) } }
            }
        }
    }

    /// Makes a mutual TLS connection the client side of HTTP/2, watched for GOAWAY, for its close, and for idleness.
    private func share(_ channel: Channel, peer: SPIFFEID, as key: Key) throws -> Shared {
        let watch = UpstreamGoAwayHandler(idleTimeout: idleTimeout) { self.retire(channel, key) }
        do {
            // The peer never gets to open streams of its own: one it opens is closed at once.
            let multiplexer = try channel.pipeline.syncOperations.configureHTTP2Pipeline(
                mode: .client, connectionConfiguration: .init(), streamConfiguration: .init(),
                streamDelegate: watch.streamCount(on: channel.eventLoop)
            ) { pushed in
                pushed.close()
            }
            try channel.pipeline.syncOperations.addHandler(watch)
            channel.closeFuture.assumeIsolated().whenComplete { _ in self.retire(channel, key) }
            return Shared(channel: channel, multiplexer: multiplexer, peer: peer)
        } catch {
            channel.close(promise: nil)
            throw error
        }
    }

    /// The connection takes no new stream (GOAWAY, or closed): the next streams to `key` go to the others, or to a
    /// new one.
    private func retire(_ channel: Channel, _ key: Key) {
        guard var destination = destinations[key] else { return }
        destination.ready.removeAll { $0.channel === channel }
        destinations[key] =
            destination.ready.isEmpty && destination.connecting == 0 && destination.waiting.isEmpty ? nil : destination
    }
}
