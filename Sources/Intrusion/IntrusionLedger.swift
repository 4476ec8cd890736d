import Foundation
import Interception

/// One direction's detection state, as a value: the scan windows, the denial bursts and the block table. Each event
/// (a connection accepted, a denial, a signature's match) goes in with the time and the settings in force, and comes
/// out as a finding with what was done; the caller alerts and carries it out. Nothing here reads a clock or does I/O.
public struct IntrusionLedger: Sendable {
    private var scans: ScanDetector
    private var denials: DenialBurstDetector
    private var blocks = BlockTable()

    /// - Parameter trackedSources: how many sources each detector remembers at once (the least recent leave first).
    public init(trackedSources: Int = 10_000) {
        scans = ScanDetector(trackedSources: trackedSources)
        denials = DenialBurstDetector(trackedSources: trackedSources)
    }

    /// A blocked source's connections are reset at accept, before any detection or policy.
    public func isBlocked(_ source: [UInt8], now: ContinuousClock.Instant) -> Bool {
        blocks.isBlocked(source, now: now)
    }

    /// A connection from `source` to `address`:`port` was accepted. A finding when it completes a scan.
    public mutating func connectionAccepted(
        from source: [UInt8], to address: [UInt8], port: UInt16, under settings: DirectionDetection,
        maxBlockedSources: Int, now: ContinuousClock.Instant, date: Date
    ) -> IntrusionFinding? {
        guard let scan = settings.scan,
            let found = scans.record(
                from: source, to: .init(address: address, port: port), now: now, settings: scan)
        else { return nil }
        let window = Self.text(scan.window)
        let finding =
            switch found {
            case .ports(let count, let address):
                IntrusionFinding(
                    detector: .scan, signature: "scan-ports", name: "Port scan", severity: .high,
                    evidence: "\(count) ports of \(IPNetwork.text(ofAddress: address)) within \(window)")
            case .addresses(let count):
                IntrusionFinding(
                    detector: .scan, signature: "scan-addresses", name: "Address sweep", severity: .high,
                    evidence: "\(count) addresses within \(window)")
            }
        return respond(
            finding, source: source, action: scan.response, refuses: false, settings, maxBlockedSources, now, date)
    }

    /// A connection or request from `source` was denied by policy. A finding when it completes a burst.
    public mutating func denied(
        from source: [UInt8], under settings: DirectionDetection, maxBlockedSources: Int, now: ContinuousClock.Instant,
        date: Date
    ) -> IntrusionFinding? {
        guard let burst = settings.denials, let count = denials.record(from: source, now: now, settings: burst) else {
            return nil
        }
        let finding = IntrusionFinding(
            detector: .denials, signature: "denial-burst", name: "Burst of policy denials", severity: .medium,
            evidence: "\(count) denials within \(Self.text(burst.window))")
        return respond(
            finding, source: source, action: burst.response, refuses: false, settings, maxBlockedSources, now, date)
    }

    /// A request from `source` matched a signature: the finding, refused in `prevent` mode.
    public mutating func signatureMatched(
        _ match: SignatureMatch, from source: [UInt8], under settings: DirectionDetection, maxBlockedSources: Int,
        now: ContinuousClock.Instant, date: Date
    ) -> IntrusionFinding {
        let finding = IntrusionFinding(
            detector: .signatures, signature: match.signature.id, name: match.signature.name,
            severity: match.signature.severity, evidence: match.evidence, location: match.location)
        let action = settings.signatures?.response ?? .alert
        return respond(finding, source: source, action: action, refuses: true, settings, maxBlockedSources, now, date)
    }

    /// A request from `source` that signatures could not read (`detect` mode reads them beside the relay, which
    /// passes them on): what cannot be told is alerted, never passed over in silence. `what` is shown decoded, escaped
    /// and cut as a match's evidence is.
    public mutating func requestUnreadable(
        _ what: String, from source: [UInt8], under settings: DirectionDetection, maxBlockedSources: Int,
        now: ContinuousClock.Instant, date: Date
    ) -> IntrusionFinding {
        let text = InspectedText(what.utf8)
        let finding = IntrusionFinding(
            detector: .signatures, signature: "http-unreadable", name: "HTTP request that does not parse",
            severity: .medium, evidence: text.evidence(1..<text.decoded.count - 1))
        let action = settings.signatures?.response ?? .alert
        return respond(finding, source: source, action: action, refuses: true, settings, maxBlockedSources, now, date)
    }

    /// - Returns: whether `source` was blocked.
    public mutating func lift(_ source: [UInt8]) -> Bool {
        blocks.lift(source)
    }

    /// The blocks in force, oldest first.
    public mutating func activeBlocks(now: ContinuousClock.Instant) -> [IntrusionBlock] {
        blocks.active(now: now)
    }

    /// `detect` only alerts. `prevent` blocks the source when the detector's action says so, and otherwise refuses
    /// what a signature matched (a scan or burst with `action: alert` only alerts: its connection did nothing wrong).
    private mutating func respond(
        _ finding: IntrusionFinding, source: [UInt8], action: DetectionResponse, refuses: Bool,
        _ settings: DirectionDetection, _ maxBlockedSources: Int, _ now: ContinuousClock.Instant, _ date: Date
    ) -> IntrusionFinding {
        var finding = finding
        guard settings.mode == .prevent else { return finding }
        switch action {
        case .block(let duration):
            finding.response = .blocked(duration)
            blocks.block(
                source, IntrusionBlock(source: source, until: now + duration, since: date, finding: finding),
                capacity: maxBlockedSources)
        case .alert:
            finding.response = refuses ? .refused : .alerted
        }
        return finding
    }

    /// A window as the configuration writes it (`10s`, `500ms`).
    static func text(_ duration: Duration) -> String {
        let (seconds, attoseconds) = duration.components
        return attoseconds == 0 ? "\(seconds)s" : "\(seconds * 1000 + attoseconds / 1_000_000_000_000_000)ms"
    }
}
