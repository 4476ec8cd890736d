import NIOCore
import NIOEmbedded
import NIOHTTP1
import Policy

/// Reads the requests of a relayed HTTP/1 connection on the side, for the signatures in `detect` mode: every byte
/// goes on to the relay as it came, and a copy-free view of it feeds NIO's own request parser, in a channel of its
/// own. Each request head (with the first bytes of a form or JSON body, when the signatures read bodies) is handed
/// to `inspect`.
///
/// What it cannot read is reported to `unreadable`, never passed over in silence: a target that does not parse,
/// bytes that are not HTTP/1.1. The one exception is a connection that may have left HTTP: after a `CONNECT` or an
/// upgrade, a fresh parser reads on (the server may have declined), and only if it fails is the rest taken for the
/// tunnel the server agreed to, and no longer read.
final class HTTP1RequestObserver: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    /// A request read, and the first bytes of its body when they were asked for.
    typealias Inspect = (_ request: HTTP1RequestFacts, _ body: [UInt8]?) -> Void

    /// How much of a request's body to read before inspecting it; nil: inspect it on its head.
    private let bodyBytesToInspect: (HTTP1RequestFacts) -> Int?
    private let inspect: Inspect
    private let unreadable: (_ what: String) -> Void
    /// Nil once the observation has ended.
    private var parser: EmbeddedChannel?
    /// The request whose body is being read.
    private var pending: (request: HTTP1RequestFacts, body: HeldRequestBody<Void>)?
    /// The request being read asks to leave HTTP.
    private var leavingHTTP = false
    /// The last request asked to leave HTTP and nothing has parsed since: bytes that do not parse are its tunnel's.
    private var tunnelMayFollow = false

    init(
        bodyBytesToInspect: @escaping (HTTP1RequestFacts) -> Int?, inspect: @escaping Inspect,
        unreadable: @escaping (_ what: String) -> Void
    ) {
        self.bodyBytesToInspect = bodyBytesToInspect
        self.inspect = inspect
        self.unreadable = unreadable
        parser = Self.makeParser()
    }

    /// After a request that leaves HTTP, NIO's decoder stops and keeps what follows, handed on when it is removed.
    private static func makeParser() -> EmbeddedChannel {
        EmbeddedChannel(
            handler: ByteToMessageHandler(
                HTTPRequestDecoder(
                    leftOverBytesStrategy: .forwardBytes, limitConfiguration: HTTP1ClientHandler.decoderLimits)))
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if parser != nil { observe(unwrapInboundIn(data)) }
        context.fireChannelRead(data)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        stop()
    }

    private func observe(_ bytes: ByteBuffer) {
        guard let parser else { return }
        var failure: Error?
        do {
            try parser.writeInbound(bytes)
        } catch {
            failure = error
        }
        // What was read before a failure is inspected all the same.
        while let part = (try? parser.readInbound(as: HTTPServerRequestPart.self)) ?? nil { read(part) }
        if let failure {
            if !tunnelMayFollow { unreadable("bytes that are not HTTP/1.1 (\(failure))") }
            stop()
        }
    }

    private func read(_ part: HTTPServerRequestPart) {
        switch part {
        case .head(let head):
            tunnelMayFollow = false
            leavingHTTP = head.asksToLeaveHTTP
            guard let target = RequestTarget(parsing: head.uri, isConnect: head.method == .CONNECT) else {
                unreadable("request target \(head.uri)")
                return
            }
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
            if let reading = pending {
                pending = nil
                inspect(reading.request, reading.body.prefix)
            }
            if leavingHTTP { readOnAfterLeaving() }
        }
    }

    /// The server may agree to leave HTTP or not: a fresh parser reads what follows, starting with what the
    /// stopped one kept.
    private func readOnAfterLeaving() {
        guard let stopped = parser else { return }
        leavingHTTP = false
        tunnelMayFollow = true
        let handler = try? stopped.pipeline.syncOperations.handler(type: ByteToMessageHandler<HTTPRequestDecoder>.self)
        if let handler { stopped.pipeline.syncOperations.removeHandler(handler, promise: nil) }
        stopped.embeddedEventLoop.run()
        var kept: [ByteBuffer] = []
        while let bytes = (try? stopped.readInbound(as: ByteBuffer.self)) ?? nil { kept.append(bytes) }
        _ = try? stopped.finish(acceptAlreadyClosed: true)
        parser = Self.makeParser()
        for bytes in kept { observe(bytes) }
    }

    private func stop() {
        _ = try? parser?.finish(acceptAlreadyClosed: true)
        parser = nil
        pending = nil
    }
}
