import Intrusion

/// The proxy's settings. Every property has the default of DESIGN.md, so `ProxyConfiguration()` serves as is.
public struct ProxyConfiguration: Sendable, Hashable {
    /// The ports the proxy listens on.
    public struct Listeners: Sendable, Hashable {
        /// Outbound capture, on loopback only: reachable from outside, it would be an open relay.
        public var outbound: Int = 15001
        /// Inbound capture, on every address.
        public var inbound: Int = 15006
        /// Admin API, on loopback only.
        public var admin: Int = 15000
        /// Read-only telemetry and health, on every address, for the kubelet's probes.
        public var telemetry: Int = 15020

        public init() {}

        /// Every port the proxy serves itself; a connection whose original destination is one of these would loop.
        public var all: [Int] { [outbound, inbound, admin, telemetry] }
    }

    /// How long the proxy waits for things.
    public struct Timeouts: Sendable, Hashable {
        /// Seconds between keepalive probes, once they started.
        public static let keepaliveProbeInterval = 10
        /// Unanswered keepalive probes after which the kernel ends the connection.
        public static let keepaliveProbes = 6

        /// To establish the upstream connection; an unreachable upstream fails the client after this.
        public var connect: Duration = .seconds(1)
        /// With no byte in either direction for this long, a relayed connection is closed.
        public var idle: Duration = .seconds(3600)
        /// For the client's first bytes, when protocol detection needs them.
        public var detect: Duration = .milliseconds(300)
        /// After SIGTERM, for open connections to finish before they are closed.
        public var drain: Duration = .seconds(30)
        /// For an HTTP/1.1 response to begin, once its request has been forwarded in full; after it the client gets
        /// 504.
        /// None by default: long polls and slow reports must keep working unless the operator says otherwise.
        public var request: Duration?
        /// How long a relayed connection's sockets may be silent before TCP keepalive probes start (then one every
        /// `keepaliveProbeInterval`, `keepaliveProbes` unanswered ones ending it): a peer that vanished without a FIN
        /// or a reset (a node gone, a dropped NAT entry) does not hold two descriptors until the idle timeout.
        public var keepalive: Duration = .seconds(60)

        public init() {}
    }

    public var listeners = Listeners()
    public var timeouts = Timeouts()
    /// Connections the app makes.
    public var outboundPolicy = DirectionPolicy()
    /// Connections into the pod.
    public var inboundPolicy = DirectionPolicy()
    /// Bounds on connections and requests; the first entry that matches a connection applies.
    public var limits: [TrafficLimit] = []
    /// Names the DNS proxy answers with NXDOMAIN, whoever asks.
    public var dnsDeny: [HostPattern] = []
    /// Virtual addresses balanced over endpoints.
    public var services: [ServiceDefinition] = []
    /// This workload's SPIFFE identity, for mutual TLS; none by default.
    public var identity: IdentitySource?
    /// Mutual TLS between sidecars: in force only with an `identity`.
    public var mtls = MeshTLS()
    /// Intrusion detection (`ids:`); none by default.
    public var intrusionDetection: IntrusionDetection?

    /// The service whose address an outbound connection dialed, if any.
    public func service(addressedBy address: [UInt8], port: UInt16) -> ServiceDefinition? {
        services.first { $0.isAddressed(by: address, port: port) }
    }

    /// The names, without wildcards, that outbound allow rules give (SNI and HTTP host): the proxy looks them up
    /// itself, so an allow by name knows the name's addresses even when the app never asked the pod's DNS.
    public var allowedNames: Set<String> {
        Set(
            outboundPolicy.rules.filter { $0.action == .allow }.flatMap { rule in
                (rule.sni + (rule.http?.host.map { [$0] } ?? [])).compactMap(\.exactName)
            })
    }

    /// What an inbound port accepts: `disable` for every port while the workload has no identity.
    public func meshMode(forInboundPort port: UInt16) -> MeshTLSMode {
        identity == nil ? .disable : mtls.mode(forInboundPort: port)
    }

    /// For an outbound connection to a meshed destination, the identities its server may present (empty: any of our
    /// trust domain); nil for a destination that does not run the sidecar, and for every one without an identity.
    /// A service is meshed as it says, or when all its endpoints are addresses in `mtls.meshCidrs`; any other
    /// destination when it lies there.
    public func meshPeers(for facts: ConnectionFacts, service: ServiceDefinition?) -> [IdentityPattern]? {
        guard identity != nil, facts.direction == .outbound, !facts.destinationIsLoopback else { return nil }
        if let service { return isMeshed(service) ? service.identities : nil }
        return isInMesh(facts.destinationAddress) ? [] : nil
    }

    /// Whether connections to `service` are mutual TLS: as it says, or when all its endpoints are addresses in
    /// `mtls.meshCidrs` (an endpoint by name could resolve anywhere: only `mtls: true` meshes it).
    func isMeshed(_ service: ServiceDefinition) -> Bool {
        guard identity != nil else { return false }
        return service.mtls
            ?? service.endpoints.allSatisfy { endpoint in
                guard case .address(let address, _) = endpoint else { return false }
                return isInMesh(address.address)
            }
    }

    private func isInMesh(_ address: [UInt8]) -> Bool {
        mtls.meshCidrs.contains { $0.contains(address: address) }
    }

    /// What intrusion detection watches in one direction; nil when nothing.
    public func intrusionDetection(for direction: TrafficDirection) -> DirectionDetection? {
        direction == .outbound ? intrusionDetection?.outbound : intrusionDetection?.inbound
    }

    /// The policy for one direction.
    public func policy(for direction: TrafficDirection) -> DirectionPolicy {
        direction == .outbound ? outboundPolicy : inboundPolicy
    }

    public init() {}
}
