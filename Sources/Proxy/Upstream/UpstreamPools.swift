import NIOCore

/// Every event loop's upstream pools, fixed when the proxy starts: a connection is pooled on the loop that opened it,
/// which is the loop of every client connection that takes it again, so no pool needs a lock.
struct UpstreamPools: Sendable {
    private let http1: [ObjectIdentifier: NIOLoopBoundBox<HTTP1ConnectionPool>]
    private let meshStreams: [ObjectIdentifier: NIOLoopBoundBox<MeshStreamPool>]

    init(loops: some Sequence<any EventLoop>) {
        var http1: [ObjectIdentifier: NIOLoopBoundBox<HTTP1ConnectionPool>] = [:]
        var meshStreams: [ObjectIdentifier: NIOLoopBoundBox<MeshStreamPool>] = [:]
        for loop in loops {
            meshStreams[ObjectIdentifier(loop)] = .makeBoxSendingValue(MeshStreamPool(eventLoop: loop), eventLoop: loop)
            // Made off the loops, and moved into the box: from then on only the loop reaches it.
            http1[ObjectIdentifier(loop)] = .makeBoxSendingValue(HTTP1ConnectionPool(eventLoop: loop), eventLoop: loop)
        }
        self.http1 = http1
        self.meshStreams = meshStreams
    }

    /// No pools: every request opens its own connection (an embedded test loop).
    static let none = UpstreamPools(loops: [])

    /// The HTTP/1.1 pool of `loop`; nil for a loop the proxy did not start with. Call on `loop`.
    func http1(on loop: any EventLoop) -> HTTP1ConnectionPool? {
        http1[ObjectIdentifier(loop)]?.value
    }

    /// The shared mesh connections of `loop`; nil for a loop the proxy did not start with. Call on `loop`.
    func meshStreams(on loop: any EventLoop) -> MeshStreamPool? {
        meshStreams[ObjectIdentifier(loop)]?.value
    }
}
