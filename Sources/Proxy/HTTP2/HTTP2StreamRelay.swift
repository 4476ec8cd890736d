import NIOCore
import NIOHPACK
import NIOHTTP2
import Policy

/// One end of a frame relay between two HTTP/2 streams on the same event loop: a client's stream and the upstream
/// stream opened for it. Messages go across unchanged (headers, data, trailers, and their END_STREAM flags), reads
/// stop while the partner stream cannot take more (its flow-control window is spent), and a stream that ends before
/// both sides sent END_STREAM (a reset, or its connection gone) resets the other: the upstream stream rides a
/// connection shared with other clients, which outlives this one. An upstream stream that fails before any of its
/// answer went across (refused, reset, 502 or 503) may first be offered to `retry`: the request then goes again on a
/// new stream, whose end takes this one's place beside the same client end. No locks: both connections share one
/// event loop.
final class HTTP2StreamRelay: ChannelDuplexHandler {
    typealias InboundIn = HTTP2Frame.FramePayload
    typealias OutboundIn = HTTP2Frame.FramePayload
    typealias OutboundOut = HTTP2Frame.FramePayload

    private var partner: HTTP2StreamRelay?
    /// The stream it is in, while it is there.
    private(set) var context: ChannelHandlerContext?
    private var readDeferred = false
    /// The stream was reset (by its peer, or on a connection error) rather than ended by both sides.
    private var endedWithError = false
    /// The stream was refused: its server never processed it.
    private var refused = false
    /// Part of the response went across: from then on the request cannot go again.
    private var responseBegan = false
    /// This end's peer sent END_STREAM (the gate says so of a request that ended before the relay began).
    var readEnded = false
    /// On the upstream end: told the response's status (nil when the stream ended without one) once it ends.
    var report: ((Int?) -> Void)?
    /// On the upstream end: how long the response may take to begin once the request has ended (`timeouts.request`).
    var responseTimeout: TimeAmount?
    /// On the upstream end: the request is a gRPC call, so a timeout is answered with a gRPC status.
    var answersGRPC = false
    /// On the upstream end of a request that may go twice: offered a failure before any of the answer went across;
    /// true when the request goes again, and this end has been let go (`letGo`).
    var retry: ((RetryAllowance.Failure) -> Bool)?
    private var responseDeadline: Scheduled<Void>?
    private var status: Int?

    private init() {}

    /// The client stream's end, for its pipeline; `upstreamEnd(for:)` links one to it.
    static func clientEnd() -> HTTP2StreamRelay {
        HTTP2StreamRelay()
    }

    /// An end for an upstream stream's pipeline, linked to `client`: the request's first, or one taking over from an
    /// end let go for a retry.
    static func upstreamEnd(for client: HTTP2StreamRelay) -> HTTP2StreamRelay {
        let end = HTTP2StreamRelay()
        end.partner = client
        client.partner = end
        return end
    }

    /// The request goes again on another stream: this end reports nothing, times nothing, and no longer touches the
    /// client end, which waits for the next.
    func letGo() {
        report = nil
        retry = nil
        responseDeadline?.cancel()
        if partner?.partner === self { partner?.partner = nil }
        partner = nil
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
        partner = nil
        retry = nil
    }

    /// Only the request and the response cross: flow control (WINDOW_UPDATE) and priorities are each hop's own,
    /// and a reset arrives as the stream's error.
    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let payload = unwrapInboundIn(data)
        switch payload {
        case .headers(let headers):
            if status == nil, let code = headers.headers.first(name: ":status").flatMap(Int.init), code >= 200 {
                if !responseBegan, let failure = RetryAllowance.Failure(answering: code), retry?(failure) == true {
                    context.close(promise: nil)
                    return
                }
                status = code
                responseDeadline?.cancel()
            }
            responseBegan = true
            partner?.context?.write(data, promise: nil)
        case .data:
            responseBegan = true
            partner?.context?.write(data, promise: nil)
        default:
            break
        }
        if payload.endsStream {
            readEnded = true
            partner?.requestEnded()
        }
    }

    /// On the upstream end: the client's request has ended, so its response must begin within the timeout.
    func requestEnded() {
        guard let responseTimeout, status == nil, let context else { return }
        responseDeadline = context.eventLoop.assumeIsolated().scheduleTask(in: responseTimeout) {
            self.responseTimedOut()
        }
    }

    /// The client gets 504 on its stream, and the upstream stream, which may still answer late, is reset; the other
    /// streams of both connections go on.
    private func responseTimedOut() {
        guard status == nil, let context, let client = partner, let clientContext = client.context else { return }
        report?(504)
        report = nil
        // The client has its answer: the stream closing now is no failure to send the request again for.
        retry = nil
        partner = nil
        client.partner = nil
        for frame in LocalAnswer.timedOut.http2Frames(
            headRequest: false, grpc: answersGRPC, allocator: clientContext.channel.allocator)
        {
            clientContext.write(wrapOutboundOut(frame), promise: nil)
        }
        clientContext.flush()
        context.close(promise: nil)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        partner?.context?.flush()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        endedWithError = true
        refused = UpstreamGoAwayHandler.refused(context.channel, by: error)
        context.close(promise: nil)
    }

    /// A stream closes cleanly once both sides sent END_STREAM, and then the partner has nothing left to finish but
    /// its writes (the last frames may have come without a read-complete). A reset must reach the partner's peer as a
    /// reset, and so must a stream that closed halfway because its connection went (NIO closes those without an
    /// error).
    func channelInactive(context: ChannelHandlerContext) {
        responseDeadline?.cancel()
        if !responseBegan, retry?(refused ? .unprocessed : .failed(feedback: 502)) == true {
            return context.fireChannelInactive()
        }
        retry = nil
        let cutShort = endedWithError || !readEnded || partner?.readEnded == false
        report?(cutShort ? nil : status)
        report = nil
        if cutShort {
            partner?.context?.close(promise: nil)
        } else {
            partner?.context?.flush()
        }
        partner = nil
        context.fireChannelInactive()
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable, let partner, partner.readDeferred, let partnerContext = partner.context {
            partner.readDeferred = false
            partnerContext.read()
        }
        context.fireChannelWritabilityChanged()
    }

    func read(context: ChannelHandlerContext) {
        if partner?.context?.channel.isWritable ?? true {
            context.read()
        } else {
            readDeferred = true
        }
    }
}
