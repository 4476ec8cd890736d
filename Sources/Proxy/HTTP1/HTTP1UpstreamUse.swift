/// How an HTTP/1.1 client connection uses its upstream connections.
enum HTTP1UpstreamUse: Equatable {
    /// One opened for the first request and kept for those after it, closed with the client's: a meshed
    /// destination's own mutual TLS connection (a handshake per request would cost more than pooling saves).
    case ownConnection
    /// One taken from the pool for the first request and kept while the client keeps its connection alive, handed
    /// back when the client leaves (or asks to close): keep-alive costs nothing per request, churn costs the server
    /// no connection.
    case pooled
    /// One taken for each request and handed back once its response is read: a service's, whose balancer picks an
    /// endpoint per request, or a stream of a shared mesh connection, which carries one request.
    case perRequest
}
