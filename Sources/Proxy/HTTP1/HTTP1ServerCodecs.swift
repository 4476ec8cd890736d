import NIOCore
import NIOHTTP1

/// The HTTP/1 codecs on a client's own connection: framing is the upstream's own, so the encoder adds none; the
/// decoder stops parsing after an upgrade request, and on removal passes on what the client sent after it; pipelined
/// requests are held back until the response before them ends.
struct HTTP1ServerCodecs {
    let encoder = HTTPResponseEncoder(configuration: .preservingFraming)
    var decoder: ByteToMessageHandler<HTTPRequestDecoder>
    let pipelining = HTTPServerPipelineHandler()

    init(decoderLimits: NIOHTTPDecoderLimitConfiguration) {
        decoder = Self.makeDecoder(limits: decoderLimits)
    }

    static func makeDecoder(limits: NIOHTTPDecoderLimitConfiguration) -> ByteToMessageHandler<HTTPRequestDecoder> {
        ByteToMessageHandler(HTTPRequestDecoder(leftOverBytesStrategy: .forwardBytes, limitConfiguration: limits))
    }
}
