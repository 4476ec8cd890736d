import Identity
import NIOCore
import NIOHTTP2
import Policy

/// One event loop's shared mutual TLS HTTP/2 connections to meshed destinations (ALPN `sidecar.mesh/streams`), by
/// destination: each HTTP/1.1 request of any app connection on the loop becomes a stream on the one connection to
/// where it goes, so connection churn in the app costs the mesh no handshake. A connection is opened on demand (the
/// streams asked for meanwhile wait for it), shared until the peer sends GOAWAY or it closes, and closed once it has
/// carried no stream for `idleTimeout`. NIO holds back streams beyond the peer's `SETTINGS_MAX_CONCURRENT_STREAMS`
/// until one ends, and flow control is per stream. Used only on its event loop.
final class MeshStreamPool {
    /// A connection is shared only where it goes to the same place, verified against the same expected identities,
    /// with the same identity of ours (a rotation opens new connections).
    struct Key: Hashable {
        let endpoint: SocketAddress
        let expectedPeers: [IdentityPattern]
        let contexts: ObjectIdentifier
    }

    /// A shared connection, with the identity its server proved.
    private struct Shared {
        let channel: Channel
        let multiplexer: NIOHTTP2Handler.StreamMultiplexer
        let peer: SPIFFEID
    }

    private enum Entry {
        case connecting(EventLoopFuture<Shared>)
        case ready(Shared)
    }

    let eventLoop: EventLoop
    let idleTimeout: TimeAmount
    private var entries: [Key: Entry] = [:]

    init(eventLoop: EventLoop, idleTimeout: TimeAmount = .seconds(60)) {
        self.eventLoop = eventLoop
        self.idleTimeout = idleTimeout
    }

    /// A new stream to `key`, on its shared connection, opening one with `dial` (a connected channel with mutual TLS
    /// established, and the server's identity) when there is none. The stream's pipeline is empty.
    func openStream(_ key: Key, dial: @escaping () -> EventLoopFuture<(Channel, SPIFFEID)>)
        -> EventLoopFuture<(Channel, SPIFFEID)>
    {
        connection(key, dial: dial).flatMap { shared in
            shared.multiplexer.createStreamChannel { $0.eventLoop.makeSucceededVoidFuture() }.map { ($0, shared.peer) }
        }
    }

    private func connection(_ key: Key, dial: @escaping () -> EventLoopFuture<(Channel, SPIFFEID)>)
        -> EventLoopFuture<Shared>
    {
        switch entries[key] {
        case .ready(let shared)? where shared.channel.isActive:
            return eventLoop.makeSucceededFuture(shared)
        case .connecting(let opening)?:
            return opening
        case .ready?, nil:
            break
        }
        let opening = dial().flatMapThrowing { channel, peer in
            try self.share(channel, peer: peer, as: key)
        }
        entries[key] = .connecting(opening)
        opening.assumeIsolated().whenComplete { result in
            guard case .connecting(let current)? = self.entries[key], current === opening else { return }
            switch result {
            case .success(let shared): self.entries[key] = .ready(shared)
            // The streams that waited fail; the next one dials again.
            case .failure: self.entries[key] = nil
            }
        }
        return opening
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

    /// The connection takes no new stream (GOAWAY, or closed): the next stream to `key` opens another.
    private func retire(_ channel: Channel, _ key: Key) {
        guard case .ready(let shared)? = entries[key], shared.channel === channel else { return }
        entries[key] = nil
    }

    /// Shared connections, open or opening.
    var connectionCount: Int { entries.count }
}
