import Identity
import NIOCore
import NIOHTTP2
import Policy
import Telemetry

/// One event loop's shared HTTP/2 connections, by destination: every request of any client connection on the loop
/// that goes there as HTTP/2 becomes a stream on one of them, so client connections come and go without a connect
/// (or, between sidecars, a handshake) upstream, and one client connection's streams can go to many endpoints. Up to
/// `connectionsPerDestination` connections are opened on demand (a stream asked for while none is up waits for the
/// first), each new stream goes to the one carrying the fewest, and a connection is shared until the peer sends
/// GOAWAY or it closes, and closed once it has carried no stream for `idleTimeout`. More than one, because the peer's
/// kernel hands each connection to one of its event loops: a single connection would confine the peer's work for this
/// loop to one thread, and with several the fewest-streams choice moves load off a busy one. NIO holds back streams
/// beyond the peer's `SETTINGS_MAX_CONCURRENT_STREAMS` until one ends, and flow control is per stream. Used only on
/// its event loop.
final class HTTP2ConnectionPool {
    /// A connection is shared only where it goes to the same place, from the same source, secured the same way.
    struct Key: Hashable {
        /// Inbound connections leave from the delivery source, outbound ones from the pod's address.
        let direction: TrafficDirection
        let endpoint: SocketAddress
        /// Nil for plaintext HTTP/2 (prior knowledge).
        let mesh: MeshSecurity?
    }

    /// How a mutual TLS connection to a sidecar was set up: verified against the same expected identities, with the
    /// same identity of ours (a rotation opens new connections), offering the same ALPN.
    struct MeshSecurity: Hashable {
        let expectedPeers: [IdentityPattern]
        /// Held, not only named: a later identity's contexts can never take its place at the same address.
        let contexts: MeshTLSContexts
        let alpn: MeshALPN

        static func == (left: MeshSecurity, right: MeshSecurity) -> Bool {
            left.expectedPeers == right.expectedPeers && left.contexts === right.contexts && left.alpn == right.alpn
        }

        func hash(into hasher: inout Hasher) {
            hasher.combine(expectedPeers)
            hasher.combine(ObjectIdentifier(contexts))
            hasher.combine(alpn)
        }
    }

    /// A connection as dialed: connected (with mutual TLS established to a sidecar), and the identity its server
    /// proved there.
    typealias Dialed = (channel: Channel, peer: SPIFFEID?)

    /// A shared connection, with the identity its server proved and the streams it carries now.
    private final class Shared {
        let channel: Channel
        let multiplexer: NIOHTTP2Handler.StreamMultiplexer
        let peer: SPIFFEID?
        var streams = 0

        init(channel: Channel, multiplexer: NIOHTTP2Handler.StreamMultiplexer, peer: SPIFFEID?) {
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
    /// Counts the connections open here, and the streams that went on one already open.
    private let recorder: TrafficRecorder
    private var destinations: [Key: Destination] = [:]

    /// Idle for at most 60 s: below the 75 s nginx keeps an idle HTTP/2 connection, so the pool, not the server,
    /// normally ends one, and a stream never meets a connection the server is closing unannounced.
    init(
        eventLoop: EventLoop, recorder: TrafficRecorder, idleTimeout: TimeAmount = .seconds(60),
        connectionsPerDestination: Int = 4
    ) {
        self.eventLoop = eventLoop
        self.recorder = recorder
        self.idleTimeout = idleTimeout
        self.connectionsPerDestination = connectionsPerDestination
    }

    /// Whether a connection to `key` is up, so a stream asked for now does not wait for one.
    func isReady(_ key: Key) -> Bool {
        destinations[key]?.ready.contains { $0.channel.isActive } ?? false
    }

    /// A new stream to `key`, on the connection there carrying the fewest, opening another with `dial` while every
    /// one is busy and there are fewer than `connectionsPerDestination`. The stream's pipeline is empty; its
    /// addresses are its connection's.
    func openStream(_ key: Key, dial: @escaping () -> EventLoopFuture<Dialed>) -> EventLoopFuture<Dialed> {
        openStream(key, dial: dial, pickingAgain: true)
    }

    /// - Parameter pickingAgain: when the connection picked closes before the stream is created (the server's close
    ///   crossed the pick), the stream is asked for once more: nothing was sent on it.
    private func openStream(
        _ key: Key, dial: @escaping () -> EventLoopFuture<Dialed>, pickingAgain: Bool
    ) -> EventLoopFuture<Dialed> {
        let opened = eventLoop.makePromise(of: Dialed.self)
        var destination = destinations[key] ?? Destination()
        forget(&destination) { !$0.channel.isActive }
        let quietest = destination.ready.min { $0.streams < $1.streams }
        let opens =
            (quietest?.streams ?? 1) > 0 && destination.ready.count + destination.connecting < connectionsPerDestination
        if quietest == nil {
            destination.waiting.append { result in
                switch result {
                case .success(let shared):
                    self.createStream(on: shared, completing: opened, for: key, dial: dial, pickingAgain: pickingAgain)
                case .failure(let error): opened.fail(error)
                }
            }
        }
        if opens { destination.connecting += 1 }
        destinations[key] = destination
        if let quietest {
            recorder.upstreamPoolReused(protocol: "http2")
            createStream(on: quietest, completing: opened, for: key, dial: dial, pickingAgain: pickingAgain)
        }
        if opens { open(key, dial: dial) }
        return opened.futureResult
    }

    /// - Parameter pickingAgain: when `shared` closed before the stream was created, a stream to `key` is asked for
    ///   anew.
    private func createStream(
        on shared: Shared, completing opened: EventLoopPromise<Dialed>, for key: Key,
        dial: @escaping () -> EventLoopFuture<Dialed>, pickingAgain: Bool
    ) {
        shared.streams += 1
        shared.multiplexer.createStreamChannel { $0.eventLoop.makeSucceededVoidFuture() }.assumeIsolated()
            .whenComplete { result in
                switch result {
                case .success(let stream):
                    stream.closeFuture.assumeIsolated().whenComplete { _ in shared.streams -= 1 }
                    opened.succeed((stream, shared.peer))
                case .failure(let error):
                    shared.streams -= 1
                    if !shared.channel.isActive, pickingAgain {
                        self.openStream(key, dial: dial, pickingAgain: false).cascade(to: opened)
                    } else {
                        opened.fail(error)
                    }
                }
            }
    }

    private func open(_ key: Key, dial: () -> EventLoopFuture<Dialed>) {
        dial().assumeIsolated().whenComplete { dialed in
            let result = dialed.flatMap { channel, peer in Result { try self.share(channel, peer: peer, as: key) } }
            var destination = self.destinations[key] ?? Destination()
            destination.connecting -= 1
            let waiting = destination.waiting
            switch result {
            case .success(let shared):
                destination.ready.append(shared)
                self.recorder.upstreamPoolChanged(protocol: "http2", holds: true)
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

    /// Makes a connection the client side of HTTP/2, watched for GOAWAY, for its close, and for idleness.
    private func share(_ channel: Channel, peer: SPIFFEID?, as key: Key) throws -> Shared {
        let watch = UpstreamGoAwayHandler(idleTimeout: idleTimeout) { self.retire(channel, key) }
        do {
            try channel.pipeline.syncOperations.addHandler(FlushCoalescingHandler())
            // The peer never gets to open streams of its own (a push): one it opens is closed at once.
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

    /// Takes the connections that match out of `destination`, counting them out of the pool.
    private func forget(_ destination: inout Destination, where matches: (Shared) -> Bool) {
        let before = destination.ready.count
        destination.ready.removeAll(where: matches)
        for _ in destination.ready.count..<before { recorder.upstreamPoolChanged(protocol: "http2", holds: false) }
    }

    /// The connection takes no new stream (GOAWAY, or closed): the next streams to `key` go to the others, or to a
    /// new one.
    private func retire(_ channel: Channel, _ key: Key) {
        guard var destination = destinations[key] else { return }
        forget(&destination) { $0.channel === channel }
        destinations[key] =
            destination.ready.isEmpty && destination.connecting == 0 && destination.waiting.isEmpty ? nil : destination
    }
}
