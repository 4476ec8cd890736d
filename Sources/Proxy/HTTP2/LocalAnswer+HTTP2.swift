import NIOCore
import NIOHPACK
import NIOHTTP2
import Policy

extension LocalAnswer {
    /// The frames that answer a request on its HTTP/2 stream: headers and a body (none for HEAD); to a gRPC caller,
    /// a trailers-only gRPC answer (one HEADERS frame with `grpc-status`, ending the stream).
    func http2Frames(headRequest: Bool, grpc: Bool, allocator: ByteBufferAllocator) -> [HTTP2Frame.FramePayload] {
        if grpc {
            let headers: HPACKHeaders = [
                ":status": "200", "content-type": "application/grpc", "grpc-status": "\(grpcStatus)",
                "grpc-message": grpcMessage,
            ]
            return [.headers(.init(headers: headers, endStream: true))]
        }
        var headers: HPACKHeaders = [
            ":status": "\(status)", "content-type": "text/plain; charset=utf-8", "content-length": "\(body.utf8.count)",
        ]
        if let retryAfter { headers.add(name: "retry-after", value: "\(retryAfter)") }
        guard !headRequest else { return [.headers(.init(headers: headers, endStream: true))] }
        return [
            .headers(.init(headers: headers)),
            .data(.init(data: .byteBuffer(allocator.buffer(string: body)), endStream: true)),
        ]
    }
}
