import NIOCore
import NIOHTTP1
import NIOHTTP2

/// The upstream side of a connection proxied request by request: encodes the requests the client side forwards and
/// hands each decoded response part back to it. Both sides share one event loop, so they call each other directly.
/// A pooled connection serves one client connection at a time: it is attached for a request and handed back once
/// the response is read; while it waits in the pool, anything the server sends ends it.
final class HTTP1UpstreamHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundIn = HTTPClientRequestPart
    typealias OutboundOut = HTTPClientRequestPart

    /// Framing is the client's own (Content-Length or chunked, as it sent it), so the encoder must not add any.
    private let encoder = HTTPRequestEncoder(configuration: .preservingFraming)
    /// Informational responses (100 Continue) go through; on removal, bytes after a 101 go to the tunnel.
    private let decoder = ByteToMessageHandler(
        HTTPResponseDecoder(leftOverBytesStrategy: .forwardBytes, informationalResponseStrategy: .forward))
    private var client: HTTP1ClientHandler?
    /// Where the connection goes back between requests; nil: it serves one client connection until either closes.
    private let pool: (pool: HTTP1ConnectionPool, key: HTTP1ConnectionPool.Key)?
    /// A stream of a shared mesh connection, carrying one request translated to HTTP/2 by NIO's codec.
    private let onMeshStream: Bool
    private var context: ChannelHandlerContext?
    private var readDeferred = false
    private var endedWithError = false
    /// The stream was refused: the server never processed the request on it.
    private var refused = false

    init(
        client: HTTP1ClientHandler, pool: (HTTP1ConnectionPool, HTTP1ConnectionPool.Key)?, onMeshStream: Bool = false
    ) {
        self.client = client
        self.pool = pool
        self.onMeshStream = onMeshStream
    }

    /// A pooled connection taken again, for `client`'s next request.
    func attach(to client: HTTP1ClientHandler) {
        self.client = client
    }

    /// The response was read in full: the connection goes back to its pool, or closes when it has none. A stream
    /// ends by itself once both sides have ended it.
    func handBack() {
        client = nil
        guard !onMeshStream, let channel = context?.channel else { return }
        guard let pool else { return channel.close(promise: nil) }
        pool.pool.handBack(channel, key: pool.key)
    }

    /// Adds the codecs and this handler to a new upstream channel: HTTP/1's, or on a mesh stream NIO's translation.
    func install(on channel: Channel) throws {
        guard onMeshStream else { return try channel.pipeline.syncOperations.addHandlers([encoder, decoder, self]) }
        try channel.pipeline.syncOperations.addHandlers([
            HTTP2FramePayloadToHTTP1ClientCodec(httpProtocol: .http), self,
        ])
    }

    var isWritable: Bool { context?.channel.isWritable ?? false }

    /// The connection (or mesh stream) as the access log names it.
    var carrier: UpstreamCarrier? { context.map { UpstreamCarrier($0.channel) } }

    func write(_ part: HTTPClientRequestPart) {
        guard onMeshStream, case .head(var head) = part else {
            context?.write(wrapOutboundOut(part), promise: nil)
            return
        }
        head.headers.add(name: OriginalProtocolHeader.name, value: OriginalProtocolHeader.http11)
        context?.write(wrapOutboundOut(.head(head)), promise: nil)
    }

    func flush() {
        context?.flush()
    }

    func close(abortively: Bool) {
        guard let channel = context?.channel else { return }
        client = nil
        if abortively { channel.reset() } else { channel.close(promise: nil) }
    }

    /// First step to a tunnel: the encoder and this handler leave the upstream pipeline and `relayEnd` takes their
    /// place. The decoder stays until `removeDecoder`, once both sides have their relay ends, since on removal it
    /// passes on the bytes the upstream sent after its 101.
    func beginTunnel(relayEnd: RelayHandler) throws -> Channel? {
        guard let channel = context?.channel else { return nil }
        let operations = channel.pipeline.syncOperations
        client = nil
        operations.removeHandler(self, promise: nil)
        operations.removeHandler(encoder, promise: nil)
        try operations.addHandler(relayEnd)
        return channel
    }

    func removeDecoder(from channel: Channel) -> EventLoopFuture<Void> {
        let removed = channel.eventLoop.makePromise(of: Void.self)
        channel.pipeline.syncOperations.removeHandler(decoder, promise: removed)
        return removed.futureResult
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        // Nothing was asked: a response now would be taken for the next request's.
        guard let client else { return context.close(promise: nil) }
        var part = unwrapInboundIn(data)
        // The app behind the other sidecar answered in HTTP/1.1; NIO's codec names the version 2.
        if onMeshStream, case .head(var head) = part {
            head.version = .http1_1
            part = .head(head)
        }
        client.upstreamResponded(part)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        client?.upstreamReadComplete()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        // The upstream finished: the decoder has already seen the EOF (ending a body read until close), and nothing
        // more can come. A server closing its keep-alive connection does this between requests.
        if case ChannelEvent.inputClosed = event { context.close(promise: nil) }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        // A reset, or a response that does not parse: either way the exchange cannot be completed.
        endedWithError = true
        refused = UpstreamGoAwayHandler.refused(context.channel, by: error)
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        client?.upstreamClosed(abortively: endedWithError, unprocessed: refused)
        client = nil
        context.fireChannelInactive()
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable { client?.upstreamBecameWritable() }
        context.fireChannelWritabilityChanged()
    }

    func read(context: ChannelHandlerContext) {
        if client?.isWritable ?? true {
            context.read()
        } else {
            readDeferred = true
        }
    }

    /// The client can take more of the response.
    func clientBecameWritable() {
        guard readDeferred, let context else { return }
        readDeferred = false
        context.read()
    }
}

extension HTTPRequestEncoder.Configuration {
    /// Framing headers passed through as received.
    static var preservingFraming: Self {
        var configuration = Self()
        configuration.automaticallySetFramingHeaders = false
        return configuration
    }
}
