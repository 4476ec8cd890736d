/// What is known of a connection when its L4 policy is decided: where it was going, and who opened it.
public struct ConnectionFacts: Sendable, Hashable {
    public var direction: TrafficDirection
    /// The original destination's address, network-order bytes (4 or 16).
    public var destinationAddress: [UInt8]
    public var destinationPort: UInt16
    /// The connecting peer's address, network-order bytes; for outbound, the app in the pod.
    public var sourceAddress: [UInt8]

    public init(
        direction: TrafficDirection, destinationAddress: [UInt8], destinationPort: UInt16, sourceAddress: [UInt8]
    ) {
        self.direction = direction
        self.destinationAddress = destinationAddress
        self.destinationPort = destinationPort
        self.sourceAddress = sourceAddress
    }
}
