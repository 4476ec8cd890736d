import Identity
import NIOCore

/// An upstream connection as one holder uses it: opened for it, or taken again from a pool. A service's balancer
/// counts it open until `ended`, so a pooled connection weighs on its endpoint only while it carries a request.
struct UpstreamLease: Sendable {
    let channel: Channel
    /// Taken from a pool: it carried requests before, and may have been closed by the server meanwhile.
    let reused: Bool
    /// Completes when the holder is done with it: closed, or handed back to the pool.
    let ended: EventLoopFuture<Void>
    /// A stream of a shared mutual TLS connection to a sidecar, whose server proved to be this identity (HTTP/1 goes
    /// on such a stream translated).
    var meshStreamPeer: SPIFFEID? = nil
    /// Where in its event loop's HTTP/1.1 pool the connection goes back once a response on it is read in full; nil
    /// for one that is not pooled.
    var poolKey: HTTP1ConnectionPool.Key? = nil

    /// A connection opened for its holder alone, which it keeps until it closes.
    init(opened channel: Channel) {
        self.init(channel: channel, reused: false, ended: channel.closeFuture)
    }

    init(channel: Channel, reused: Bool, ended: EventLoopFuture<Void>) {
        self.channel = channel
        self.reused = reused
        self.ended = ended
    }
}
