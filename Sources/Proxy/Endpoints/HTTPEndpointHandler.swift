import NIOCore
import NIOHTTP1

/// Answers HTTP/1.1 requests from a fixed route table, with keep-alive. Request bodies are read up to
/// `maxRequestBody` bytes (a longer one is answered 413 and the connection closed), or ignored when it is zero. A
/// connection that has not sent a whole request within the request timeout (of opening, or of its last answer) is
/// closed.
final class HTTPEndpointHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let endpoints: [HTTPEndpoint]
    private let requestTimeout: TimeAmount
    private let maxRequestBody: Int
    /// Told when the connection starts and stops waiting for a request (the server makes room by closing the one
    /// that waited longest).
    private let waiting: (Bool) -> Void
    private var request: HTTPRequestHead?
    private var body: [UInt8] = []
    private var deadline: Scheduled<Void>?

    init(
        endpoints: [HTTPEndpoint], requestTimeout: TimeAmount, maxRequestBody: Int,
        waiting: @escaping (Bool) -> Void
    ) {
        self.endpoints = endpoints
        self.requestTimeout = requestTimeout
        self.maxRequestBody = maxRequestBody
        self.waiting = waiting
    }

    func handlerAdded(context: ChannelHandlerContext) {
        awaitRequest(context: context)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        deadline?.cancel()
    }

    /// Starts the wait for the next whole request.
    private func awaitRequest(context: ChannelHandlerContext) {
        waiting(true)
        deadline?.cancel()
        deadline = context.eventLoop.assumeIsolated().scheduleTask(in: requestTimeout) {
            context.close(promise: nil)
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            request = head
            body = []
            waiting(false)
        case .body(let chunk):
            guard let head = request, maxRequestBody > 0 else { return }
            guard body.count + chunk.readableBytes <= maxRequestBody else {
                request = nil
                var closing = head
                closing.headers.replaceOrAdd(name: "connection", value: "close")
                write(
                    HTTPEndpointResponse(status: .payloadTooLarge, body: "request body over \(maxRequestBody) bytes\n"),
                    for: closing, context: context)
                return
            }
            body += chunk.readableBytesView
        case .end:
            guard let head = request else { return }
            request = nil
            // Answering may take a moment (an endpoint that waits): the next wait starts once it is written.
            deadline?.cancel()
            respond(context: context, to: head)
        }
    }

    private func respond(context: ChannelHandlerContext, to head: HTTPRequestHead) {
        let parts = head.uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
        let path = String(parts[0])
        let request = HTTPEndpointRequest(
            queryString: parts.count > 1 ? parts[1] : nil, authorization: head.headers.first(name: "authorization"),
            body: body)
        body = []
        guard let endpoint = endpoints.first(where: { $0.path == path && $0.method == head.method }) else {
            let known = endpoints.contains { $0.path == path }
            write(
                known
                    ? HTTPEndpointResponse(status: .methodNotAllowed, body: "method not allowed\n")
                    : HTTPEndpointResponse(status: .notFound, body: "not found\n"),
                for: head, context: context)
            return
        }
        let answer = context.eventLoop.makeFutureWithTask { await endpoint.respond(request) }
        answer.assumeIsolated().whenSuccess { response in self.write(response, for: head, context: context) }
    }

    private func write(_ response: HTTPEndpointResponse, for head: HTTPRequestHead, context: ChannelHandlerContext) {
        var body = context.channel.allocator.buffer(capacity: response.body.utf8.count)
        body.writeString(response.body)
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: response.contentType)
        headers.add(name: "Content-Length", value: String(body.readableBytes))
        let keepAlive = head.isKeepAlive
        if !keepAlive { headers.add(name: "Connection", value: "close") }
        context.write(
            wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: response.status, headers: headers))),
            promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
        let written = context.writeAndFlush(wrapOutboundOut(.end(nil)))
        // The wait for the next request starts once the answer is out: a slow reader of a long one is not cut off.
        written.assumeIsolated().whenComplete { _ in
            if keepAlive { self.awaitRequest(context: context) } else { context.close(promise: nil) }
        }
    }
}
