import Identity
import Interception

/// What is known of a connection when its L4 policy is decided: where it was going, and who opened it.
public struct ConnectionFacts: Sendable, Hashable {
    public var direction: TrafficDirection
    /// The original destination's address, network-order bytes (4 or 16).
    public var destinationAddress: [UInt8]
    public var destinationPort: UInt16
    /// The connecting peer's address, network-order bytes; for outbound, the app in the pod.
    public var sourceAddress: [UInt8]
    /// Inbound: the identity the caller's mesh certificate names, once mutual TLS is terminated; nil for a caller
    /// without one (plaintext, the app's own TLS) and before the handshake.
    public var peer: SPIFFEID?
    /// Intrusion detection has blocked the source: its connections are reset before anything else is decided.
    public var sourceBlocked: Bool

    public init(
        direction: TrafficDirection, destinationAddress: [UInt8], destinationPort: UInt16, sourceAddress: [UInt8],
        peer: SPIFFEID? = nil, sourceBlocked: Bool = false
    ) {
        self.direction = direction
        self.destinationAddress = destinationAddress
        self.destinationPort = destinationPort
        self.sourceAddress = sourceAddress
        self.peer = peer
        self.sourceBlocked = sourceBlocked
    }
}

extension ConnectionFacts {
    /// The destination conditions rules and limits share: in one of `networks` and on one of `ports`, an empty list
    /// holding for any.
    func destination(in networks: [IPNetwork], on ports: [PortRange]) -> Bool {
        (networks.isEmpty || networks.contains { $0.contains(address: destinationAddress) })
            && (ports.isEmpty || ports.contains { $0.contains(destinationPort) })
    }
}

extension ConnectionFacts {
    /// 127.0.0.0/8 or ::1: the pod itself.
    var destinationIsLoopback: Bool {
        switch destinationAddress.count {
        case 4: destinationAddress[0] == 127
        case 16: destinationAddress == Array(repeating: 0, count: 15) + [1]
        default: false
        }
    }
}
