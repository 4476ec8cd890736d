import NIOCore
import NIOHTTP1

/// Turns an HTTP/1 client connection and its upstream into a byte relay, after a 101 or for an allowed CONNECT. The
/// HTTP handlers and encoders leave first, the relay ends take their place, and the decoders go last: on removal
/// they pass on what each peer sent after its last HTTP message.
struct HTTP1TunnelSwitch {
    let client: Channel
    /// The client side's HTTP handlers but its decoder: they leave first.
    let clientHandlers: [any RemovableChannelHandler]
    let clientDecoder: ByteToMessageHandler<HTTPRequestDecoder>
    /// A tunnel is idle when neither side sent anything for this long, like any relayed connection.
    let idleTimeout: TimeAmount

    /// - Returns: false when a pipeline could not be changed; the caller resets the client.
    func connect(to upstream: HTTP1UpstreamHandler) -> Bool {
        // The client's bytes are counted at its socket already, so the ends only relay.
        let (clientEnd, upstreamEnd) = RelayHandler.matchedPair(idleTimeout: idleTimeout)
        do {
            guard let upstreamChannel = try upstream.beginTunnel(relayEnd: upstreamEnd) else { return false }
            let operations = client.pipeline.syncOperations
            for handler in clientHandlers { operations.removeHandler(handler, promise: nil) }
            // The relay watches idleness from here on; the HTTP exchange's watch would tell no one.
            if let idle = try? operations.handler(type: IdleStateHandler.self) {
                operations.removeHandler(idle, promise: nil)
            }
            try operations.addHandler(clientEnd)
            // The upstream's response decoder watches the requests written past it, so it must be gone before the
            // client's decoder passes on what the client sent after its request.
            let client = self.client
            let clientDecoder = self.clientDecoder
            upstream.removeDecoder(from: upstreamChannel).assumeIsolated().flatMap {
                let removed = client.eventLoop.makePromise(of: Void.self)
                client.pipeline.syncOperations.removeHandler(clientDecoder, promise: removed)
                return removed.futureResult
            }.whenComplete { _ in
                // What the decoders passed on was written without a flush; reads the HTTP handlers held back resume.
                for channel in [client, upstreamChannel] {
                    channel.flush()
                    channel.read()
                }
            }
            return true
        } catch {
            return false
        }
    }
}
