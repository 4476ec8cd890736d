/// What the proxy does with one connection, decided once by `ConnectionPlanner` and then carried out as it stands:
/// every later stage reads this value and none decides again.
public struct ConnectionPlan: Sendable, Hashable {
    public enum Handling: Sendable, Hashable {
        /// Reset at once: its original destination is one of the proxy's own listeners, so it would come back.
        case refuseLoop
        /// The plan depends on the first bytes: plan again once they are known.
        case detectFirst
        /// A sidecar's ClientHello: complete mutual TLS here, then plan again knowing the caller's identity and,
        /// from the agreed ALPN, the protocol inside.
        case terminateMeshTLS
        /// Reset at once: the policy denies it (`decision` says by which rule).
        case deny
        /// Relay bytes both ways.
        case relay
        /// HTTP/1.x proxied request by request, each request decided on its own.
        case http1
        /// HTTP/2 proxied stream by stream, each request decided on its own.
        case http2
    }

    public var handling: Handling
    /// The rule that decided the connection as a whole; nil for a loop, before detection, and for HTTP when every
    /// request is decided on its own because an HTTP rule could decide it.
    public var decision: PolicyDecision?
    /// The first `limits:` entry that matches the connection.
    public var limit: TrafficLimit?
    /// The service whose address the app dialed: the upstream is one of its endpoints. Nil: the original destination.
    public var service: ServiceDefinition?
    /// Outbound to a destination that runs the sidecar: the upstream connection is mutual TLS. Nil: plaintext.
    public var mesh: MeshOrigination?
    /// A relayed HTTP/1 connection whose requests the signatures read on the side, in `detect` mode: its bytes go
    /// on untouched, never re-encoded.
    public var observesRequests = false

    public init(
        handling: Handling, decision: PolicyDecision? = nil, limit: TrafficLimit? = nil,
        service: ServiceDefinition? = nil, mesh: MeshOrigination? = nil
    ) {
        self.handling = handling
        self.decision = decision
        self.limit = limit
        self.service = service
        self.mesh = mesh
    }

    /// A relayed connection under a limit that counts requests is counted as one request: its bytes cannot be read
    /// request by request (TLS, opaque, or undecided).
    public var countsAsOneRequest: Bool { handling == .relay && limit?.limitsRequests == true }
}
