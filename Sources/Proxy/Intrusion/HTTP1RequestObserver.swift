import NIOCore
import NIOEmbedded
import NIOHTTP1
import Policy

/// Reads the requests of a relayed HTTP/1 connection on the side, for the signatures in `detect` mode: every byte
/// goes on to the relay as it came, and a copy-free view of it feeds NIO's own request parser, in a channel of its
/// own. Each request head (with the first bytes of a form or JSON body, when the signatures read bodies) is handed
/// to `inspect`. Bytes the parser cannot read (an upgrade's, a malformed stream) end the observation, never the
/// connection.
final class HTTP1RequestObserver: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    /// A request read, and the first bytes of its body when they were asked for.
    typealias Inspect = (_ request: HTTP1RequestFacts, _ body: [UInt8]?) -> Void

    /// How much of a request's body to read before inspecting it; nil: inspect it on its head.
    private let bodyBytesToInspect: (HTTP1RequestFacts) -> Int?
    private let inspect: Inspect
    /// Nil once the observation has ended.
    private var parser: EmbeddedChannel?
    /// The request whose body is being read.
    private var pending: (request: HTTP1RequestFacts, body: HeldRequestBody<Void>)?

    init(bodyBytesToInspect: @escaping (HTTP1RequestFacts) -> Int?, inspect: @escaping Inspect) {
        self.bodyBytesToInspect = bodyBytesToInspect
        self.inspect = inspect
        parser = EmbeddedChannel(
            handler: ByteToMessageHandler(
                HTTPRequestDecoder(
                    leftOverBytesStrategy: .dropBytes, limitConfiguration: HTTP1ClientHandler.decoderLimits)))
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if let parser { observe(unwrapInboundIn(data), with: parser) }
        context.fireChannelRead(data)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        stop()
    }

    private func observe(_ bytes: ByteBuffer, with parser: EmbeddedChannel) {
        var failed = false
        do {
            try parser.writeInbound(bytes)
        } catch {
            failed = true
        }
        // What was read before a failure is inspected all the same.
        while let part = (try? parser.readInbound(as: HTTPServerRequestPart.self)) ?? nil { read(part) }
        if failed { stop() }
    }

    private func read(_ part: HTTPServerRequestPart) {
        switch part {
        case .head(let head):
            guard let target = RequestTarget(parsing: head.uri, isConnect: head.method == .CONNECT) else { return }
            let request = HTTP1RequestFacts(head: head, target: target)
            if head.hasBody, let limit = bodyBytesToInspect(request) {
                pending = (request, HeldRequestBody(limit: limit))
            } else {
                inspect(request, nil)
            }
        case .body(let bytes):
            guard var reading = pending else { return }
            if reading.body.add((), carrying: bytes, ends: false) {
                pending = nil
                inspect(reading.request, reading.body.prefix)
            } else {
                pending = reading
            }
        case .end:
            guard let reading = pending else { return }
            pending = nil
            inspect(reading.request, reading.body.prefix)
        }
    }

    private func stop() {
        _ = try? parser?.finish(acceptAlreadyClosed: true)
        parser = nil
        pending = nil
    }
}
