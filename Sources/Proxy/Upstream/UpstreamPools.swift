import NIOCore
import Telemetry

/// Every event loop's upstream pools (kept-alive HTTP/1.1 connections, shared HTTP/2 ones), fixed when the proxy
/// starts: a connection is pooled on the loop that opened it, which is the loop of every client connection that takes
/// it again, so no pool needs a lock.
struct UpstreamPools: Sendable {
    private let http1: [ObjectIdentifier: NIOLoopBoundBox<HTTP1ConnectionPool>]
    private let http2: [ObjectIdentifier: NIOLoopBoundBox<HTTP2ConnectionPool>]

    init(loops: some Sequence<any EventLoop>, recorder: TrafficRecorder) {
        var http1: [ObjectIdentifier: NIOLoopBoundBox<HTTP1ConnectionPool>] = [:]
        var http2: [ObjectIdentifier: NIOLoopBoundBox<HTTP2ConnectionPool>] = [:]
        for loop in loops {
            http2[ObjectIdentifier(loop)] = .makeBoxSendingValue(
                HTTP2ConnectionPool(eventLoop: loop, recorder: recorder), eventLoop: loop)
            // Made off the loops, and moved into the box: from then on only the loop reaches it.
            http1[ObjectIdentifier(loop)] = .makeBoxSendingValue(
                HTTP1ConnectionPool(eventLoop: loop, recorder: recorder), eventLoop: loop)
        }
        self.http1 = http1
        self.http2 = http2
    }

    /// The HTTP/1.1 pool of `loop`; nil for a loop the proxy did not start with. Call on `loop`.
    func http1(on loop: any EventLoop) -> HTTP1ConnectionPool? {
        http1[ObjectIdentifier(loop)]?.value
    }

    /// The shared HTTP/2 connections of `loop`; nil for a loop the proxy did not start with. Call on `loop`.
    func http2(on loop: any EventLoop) -> HTTP2ConnectionPool? {
        http2[ObjectIdentifier(loop)]?.value
    }
}
