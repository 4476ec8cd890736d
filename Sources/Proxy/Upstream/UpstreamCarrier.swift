import NIOCore

/// The upstream connection that carried a request, as the access log names it: the endpoint it goes to, and its own
/// local address, which tells apart the connections of a pool (requests on one connection name the same) and matches
/// the source the upstream server logs.
struct UpstreamCarrier: Sendable {
    let endpoint: SocketAddress?
    let local: SocketAddress?

    /// A connection, or a stream of one (a stream's addresses are its connection's).
    init(_ channel: Channel) {
        endpoint = channel.remoteAddress
        local = channel.localAddress
    }
}
