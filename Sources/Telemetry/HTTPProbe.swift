import NIOCore
import NIOHTTP1
import NIOPosix

/// A one-shot HTTP/1.1 GET against the proxy's own endpoints, for `sidecar-status` and `wait-ready`.
public enum HTTPProbe {
    public struct Response: Sendable {
        public var status: HTTPResponseStatus
        public var body: String
    }

    /// Why a probe failed without an HTTP answer.
    public enum Failure: Error, CustomStringConvertible {
        case closedBeforeResponse
        public var description: String { "the connection closed before a response arrived" }
    }

    public static func get(
        host: String, port: Int, path: String, timeout: TimeAmount, group: EventLoopGroup
    ) -> EventLoopFuture<Response> {
        let eventLoop = group.next()
        let answer = eventLoop.makePromise(of: Response.self)
        let timer = eventLoop.scheduleTask(in: timeout) { answer.fail(ChannelError.connectTimeout(timeout)) }
        ClientBootstrap(group: eventLoop)
            .connectTimeout(timeout)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    try channel.pipeline.syncOperations.addHandler(ResponseCollector(answer: answer))
                }
            }
            .connect(host: host, port: port)
            .whenComplete { result in
                switch result {
                case .failure(let error):
                    answer.fail(error)
                case .success(let channel):
                    var headers = HTTPHeaders()
                    headers.add(name: "Host", value: host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)")
                    headers.add(name: "Connection", value: "close")
                    let head = HTTPRequestHead(version: .http1_1, method: .GET, uri: path, headers: headers)
                    channel.write(HTTPClientRequestPart.head(head), promise: nil)
                    channel.writeAndFlush(HTTPClientRequestPart.end(nil), promise: nil)
                    answer.futureResult.whenComplete { _ in channel.close(promise: nil) }
                }
            }
        answer.futureResult.whenComplete { _ in timer.cancel() }
        return answer.futureResult
    }

    /// Gathers the response head and body, then completes the promise.
    private final class ResponseCollector: ChannelInboundHandler {
        typealias InboundIn = HTTPClientResponsePart

        private let answer: EventLoopPromise<Response>
        private var status: HTTPResponseStatus?
        private var body = ""

        init(answer: EventLoopPromise<Response>) {
            self.answer = answer
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch unwrapInboundIn(data) {
            case .head(let head): status = head.status
            case .body(let buffer): body += String(buffer: buffer)
            case .end:
                if let status { answer.succeed(Response(status: status, body: body)) }
            }
        }

        func channelInactive(context: ChannelHandlerContext) {
            answer.fail(Failure.closedBeforeResponse)
        }

        func errorCaught(context: ChannelHandlerContext, error: Error) {
            answer.fail(error)
            context.close(promise: nil)
        }
    }
}
