import Policy

/// One listening socket of the proxy: which traffic it receives and where it is bound.
struct CaptureAddress: Sendable {
    let direction: TrafficDirection
    let host: String
    let port: Int

    /// Outbound capture listens on loopback only (reachable from outside it would be an open relay); inbound on
    /// every address, since prerouting redirects to the address the packet arrived on.
    static func all(outboundPort: Int, inboundPort: Int) -> [CaptureAddress] {
        [
            CaptureAddress(direction: .outbound, host: "127.0.0.1", port: outboundPort),
            CaptureAddress(direction: .outbound, host: "::1", port: outboundPort),
            CaptureAddress(direction: .inbound, host: "0.0.0.0", port: inboundPort),
            CaptureAddress(direction: .inbound, host: "::", port: inboundPort),
        ]
    }
}
