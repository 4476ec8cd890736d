import Crypto
import Foundation
import Identity
import NIOCore
import NIOSSL
import NIOTLS
import Policy
import X509

/// Waits behind an `NIOSSLHandler` for the mesh handshake to complete, applies the X.509-SVID rules to the peer's
/// leaf (BoringSSL has verified its chain to the bundle by then), and hands on the peer's identity and the agreed
/// ALPN once, or why there is none; then it leaves. Nothing the peer sends passes before that: the handlers that
/// carry the connection on are added by whoever hears the result, before NIOSSL decodes the first record after the
/// handshake.
final class MeshHandshakeHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = NIOAny

    private let timeout: TimeAmount
    private var completed: ((Result<MeshSession, MeshHandshakeFailure>) -> Void)?
    private var timer: Scheduled<Void>?

    init(timeout: TimeAmount, completed: @escaping (Result<MeshSession, MeshHandshakeFailure>) -> Void) {
        self.timeout = timeout
        self.completed = completed
    }

    func handlerAdded(context: ChannelHandlerContext) {
        timer = context.eventLoop.assumeIsolated().scheduleTask(in: timeout) {
            self.finish(.failure(.timedOut), context: context)
            context.close(promise: nil)
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        timer?.cancel()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        guard case TLSUserEvent.handshakeCompleted(let negotiated) = event else {
            context.fireUserInboundEventTriggered(event)
            return
        }
        let result = Result { () throws(MeshHandshakeFailure) -> MeshSession in
            let (peer, der) = try Self.peerIdentity(context)
            return MeshSession(
                peer: peer, alpn: negotiated.flatMap(MeshALPN.init(rawValue:)),
                certificateHash: SHA256.hash(data: der).map { String(format: "%02x", $0) }.joined())
        }
        finish(result, context: context)
        context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        guard completed != nil else {
            context.fireErrorCaught(error)
            return
        }
        finish(.failure(.tls("\(error)")), context: context)
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        finish(.failure(.incomplete), context: context)
        context.fireChannelInactive()
    }

    private func finish(_ result: Result<MeshSession, MeshHandshakeFailure>, context: ChannelHandlerContext) {
        timer?.cancel()
        guard let completed else { return }
        self.completed = nil
        completed(result)
    }

    /// The SPIFFE ID the peer's leaf names, under the X.509-SVID rules, and the leaf as DER.
    private static func peerIdentity(_ context: ChannelHandlerContext) throws(MeshHandshakeFailure)
        -> (SPIFFEID, [UInt8])
    {
        guard
            let tls = try? context.pipeline.syncOperations.handler(type: NIOSSLHandler.self),
            let der = try? tls.peerCertificate?.toDERBytes()
        else { throw .svid(.malformed("no peer certificate")) }
        let leaf: Certificate
        do {
            leaf = try Certificate(derEncoded: der)
        } catch {
            throw .svid(.malformed("\(error)"))
        }
        do {
            return (try X509SVID.check(leaf, at: Date()), der)
        } catch {
            throw .svid(error)
        }
    }
}
