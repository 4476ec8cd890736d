import NIOCore
import NIOHTTP1

/// A response the proxy writes itself, instead of the upstream's: a policy denial, a refused request, an unreachable
/// upstream. Short plain text that names the reason, so whoever reads the client's logs learns what happened.
struct LocalResponse {
    let status: HTTPResponseStatus
    let body: String
    /// Whether the connection ends after it (the request cannot be followed by another, or the client asked).
    let closesConnection: Bool
    /// Such as `Retry-After`.
    var extraHeaders: HTTPHeaders = [:]

    /// Writes head, body (none for HEAD requests, whose responses carry only the length) and end.
    func write(
        to context: ChannelHandlerContext, version: HTTPVersion, method: HTTPMethod,
        wrap: (HTTPServerResponsePart) -> NIOAny
    ) -> EventLoopFuture<Void> {
        var headers = HTTPHeaders()
        headers.add(name: "content-type", value: "text/plain; charset=utf-8")
        headers.add(name: "content-length", value: String(body.utf8.count))
        headers.add(name: "connection", value: closesConnection ? "close" : "keep-alive")
        headers.add(contentsOf: extraHeaders)
        context.write(wrap(.head(HTTPResponseHead(version: version, status: status, headers: headers))), promise: nil)
        if method != .HEAD {
            context.write(wrap(.body(.byteBuffer(context.channel.allocator.buffer(string: body)))), promise: nil)
        }
        let written = context.eventLoop.makePromise(of: Void.self)
        context.writeAndFlush(wrap(.end(nil)), promise: written)
        return written.futureResult
    }
}
