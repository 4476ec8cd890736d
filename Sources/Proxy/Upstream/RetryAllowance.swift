import NIOCore

/// Whether, and where, a request that failed before any of its answer reached the client goes again: the one rule for
/// HTTP/1.1 requests and HTTP/2 streams alike. A request the server never processed (sent on a kept-alive connection
/// the server was closing, or on a stream it refused) goes again once, to wherever the balancer picks, spending no
/// retry: the endpoint did nothing wrong. One that an endpoint of a service failed (it closed or reset without an
/// answer, or answered 502 or 503) goes to another endpoint, within the service's retries and only while its retry
/// budget allows. A request that may not be sent twice (not idempotent, or with a body the proxy does not keep) gets
/// no allowance.
struct RetryAllowance: Equatable {
    enum Failure: Equatable {
        /// The server did not process the request.
        case unprocessed
        /// The endpoint failed it: the status it is told it answered (502 for none).
        case failed(feedback: Int)

        /// An answer that fails the request where another endpoint may do better: 502 or 503 (a gateway's or an
        /// overloaded server's); nil for any other status, which goes to the client as it is.
        init?(answering status: Int) {
            guard status == 502 || status == 503 else { return nil }
            self = .failed(feedback: status)
        }
    }

    enum Next: Equatable {
        /// Again on a new connection or stream, avoiding the endpoints that failed the request before.
        case resend(excluding: Set<SocketAddress>)
        /// To another endpoint, avoiding those that failed the request; the one that just did is told `feedback`.
        case elsewhere(excluding: Set<SocketAddress>, feedback: Int)

        /// The endpoints the request must not go to.
        var excluding: Set<SocketAddress> {
            switch self {
            case .resend(let excluding), .elsewhere(let excluding, _): excluding
            }
        }
    }

    /// Methods whose request may be sent twice: idempotent ones (RFC 9110 section 9.2.2).
    static func mayResend(method: String) -> Bool {
        ["GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE"].contains(method)
    }

    private let replayable: Bool
    private var retriesLeft: Int
    private var resent = false
    /// The endpoints that failed the request.
    private(set) var tried: Set<SocketAddress> = []

    /// - Parameters:
    ///   - replayable: the request may be sent twice.
    ///   - retries: how often it may go to another endpoint of its service (0 without one).
    init(replayable: Bool, retries: Int) {
        self.replayable = replayable
        self.retriesLeft = replayable ? retries : 0
    }

    /// Where the request goes after `failure` at `endpoint`, or nil when it does not go again. A second request
    /// left unprocessed counts as failed (502): a server that keeps refusing is failing.
    /// - Parameter mayRetry: asked last, at most once, whether the request may go to an endpoint not among those
    ///   given (it spends from the service's retry budget).
    mutating func next(
        after failure: Failure, at endpoint: SocketAddress, mayRetry: (Set<SocketAddress>) -> Bool
    ) -> Next? {
        guard replayable else { return nil }
        let feedback: Int
        switch failure {
        case .unprocessed where !resent:
            resent = true
            return .resend(excluding: tried)
        case .unprocessed:
            feedback = 502
        case .failed(let status):
            feedback = status
        }
        guard retriesLeft > 0 else { return nil }
        let avoiding = tried.union([endpoint])
        guard mayRetry(avoiding) else { return nil }
        retriesLeft -= 1
        tried = avoiding
        return .elsewhere(excluding: avoiding, feedback: feedback)
    }
}
