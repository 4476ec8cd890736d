import Foundation
import Identity
import NIOCore
import Policy
import Telemetry

/// What the proxy learns of one client connection while it lives, for its access log line, the metrics and
/// `/connections`. Lives on the connection's event loop and is touched only there.
final class ConnectionRecord {
    let direction: TrafficDirection
    /// Formatted only when asked for (a log line, a denial): most connections never are. Read again from the
    /// kernel when NIO has none (a client that reset before the accept).
    var sourceAddress: SocketAddress?
    let startedAt = Date()
    let started = ContinuousClock.now
    var destination: OriginalDestination?
    var upstream: SocketAddress?
    var detected: DetectedProtocol?
    var decision: PolicyDecision?
    /// The connection is a mesh tunnel: terminated here (inbound) or originated here (outbound).
    var meshTLS = false
    /// Under mutual TLS, who the peer is.
    var peer: SPIFFEID?
    var outcome = ConnectionOutcome.error
    /// Counted at the socket, so they are the bytes the client really sent and received.
    var bytesReceived = 0
    var bytesSent = 0
    /// What ended the connection, when an error did (a reset, a broken pipe, a stream that does not parse).
    var failure: (any Error)?
    /// A drain began while the connection was open: HTTP is told to close (`ChannelShouldQuiesceEvent`).
    var drainRequested = false

    init(direction: TrafficDirection, source: SocketAddress?) {
        self.direction = direction
        self.sourceAddress = source
    }

    var source: String { sourceAddress?.endpoint ?? "unknown" }

    /// `mtls`, `passthrough` (TLS the proxy did not terminate) or `plaintext`; the `tls` label of metrics and logs.
    var transport: String {
        if meshTLS { return "mtls" }
        if case .tls? = detected { return "passthrough" }
        return "plaintext"
    }

    /// The connection's access log line, as it stands.
    func entry() -> AccessLogEntry {
        var entry = AccessLogEntry(
            kind: .connection, start: AccessLogTime(startedAt), durationMs: Self.milliseconds(since: started),
            direction: direction.rawValue, source: source)
        entry.destination = destination?.description
        entry.upstream = upstream?.endpoint
        switch detected {
        case .tls(let serverName, _)?:
            entry.protocol = "tls"
            entry.sni = serverName
        case let detected?:
            entry.protocol = "\(detected)"
        case nil:
            break
        }
        entry.tls = transport
        entry.peerIdentity = peer?.description
        entry.bytesReceived = bytesReceived
        entry.bytesSent = bytesSent
        entry.decision = decision?.action.rawValue
        entry.rule = decision?.ruleName
        entry.outcome = outcome.rawValue
        return entry
    }

    static func milliseconds(since start: ContinuousClock.Instant) -> Double {
        let elapsed = ContinuousClock.now - start
        let (seconds, attoseconds) = elapsed.components
        return Double(seconds) * 1000 + Double(attoseconds / 1_000_000_000_000) / 1000
    }
}
