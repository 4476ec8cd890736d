import Interception

/// The `mtls:` settings: what inbound ports accept, and which outbound destinations run the sidecar. Nothing of it
/// applies without an `identity:` (the loader refuses settings that need one).
public struct MeshTLS: Sendable, Hashable {
    /// Every inbound port's mode but those in `ports`.
    public var mode: MeshTLSMode = .permissive
    /// Per inbound port (the original destination's).
    public var ports: [UInt16: MeshTLSMode] = [:]
    /// Outbound destinations in these networks run the sidecar: connections to them are mutual TLS.
    public var meshCidrs: [IPNetwork] = []
    /// Plaintext probes a strict port still lets through.
    public var probes: [MeshProbe] = []
    /// Inbound HTTP requests from a mesh caller carry `x-forwarded-client-cert` naming it.
    public var forwardClientCert = false
    /// Outbound HTTP/1.1 requests to meshed destinations ride shared HTTP/2 connections, a stream each, rather than a
    /// mutual TLS connection per app connection: no handshake per app connection, at more CPU per request (each
    /// request is proxied and translated at both ends). Off until that cost is level with a relayed request's.
    public var shareConnections = false

    public init() {}

    public func mode(forInboundPort port: UInt16) -> MeshTLSMode {
        ports[port] ?? mode
    }

    /// Whether any inbound port is strict: readiness then waits for a valid identity.
    public var hasStrictPort: Bool {
        mode == .strict || ports.values.contains(.strict)
    }
}
