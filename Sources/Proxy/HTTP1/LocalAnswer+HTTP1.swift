import NIOCore
import NIOHTTP1
import Policy

extension LocalAnswer {
    /// Writes the answer on an HTTP/1.x connection: head, body (none for HEAD, whose answers carry only the length)
    /// and end; to a gRPC caller, a trailers-only gRPC answer (status 200, `grpc-status` in the head).
    /// - Parameter closesConnection: the connection ends after it (the request cannot be followed by another).
    /// - Returns: when the end has been written.
    func write(
        to context: ChannelHandlerContext, version: HTTPVersion, method: HTTPMethod, grpc: Bool,
        closesConnection: Bool, wrap: (HTTPServerResponsePart) -> NIOAny
    ) -> EventLoopFuture<Void> {
        var headers = HTTPHeaders()
        let body = grpc || method == .HEAD ? "" : self.body
        if grpc {
            headers.add(name: "content-type", value: "application/grpc")
            headers.add(name: "grpc-status", value: "\(grpcStatus)")
            headers.add(name: "grpc-message", value: grpcMessage)
            headers.add(name: "content-length", value: "0")
        } else {
            headers.add(name: "content-type", value: "text/plain; charset=utf-8")
            headers.add(name: "content-length", value: String(self.body.utf8.count))
        }
        headers.add(name: "connection", value: closesConnection ? "close" : "keep-alive")
        if let retryAfter { headers.add(name: "retry-after", value: "\(retryAfter)") }
        let status = HTTPResponseStatus(statusCode: grpc ? 200 : self.status)
        context.write(wrap(.head(HTTPResponseHead(version: version, status: status, headers: headers))), promise: nil)
        if !body.isEmpty {
            context.write(wrap(.body(.byteBuffer(context.channel.allocator.buffer(string: body)))), promise: nil)
        }
        let written = context.eventLoop.makePromise(of: Void.self)
        context.writeAndFlush(wrap(.end(nil)), promise: written)
        return written.futureResult
    }
}
