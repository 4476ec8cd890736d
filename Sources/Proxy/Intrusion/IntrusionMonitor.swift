import Foundation
import Interception
import Intrusion
import Logging
import Policy
import Synchronization
import Telemetry

/// Intrusion detection at run time: each direction's ledger behind one lock, fed as connections are accepted, as
/// the policy denies, and as requests match signatures. What it finds is alerted here, once: a warning in the log,
/// an access log line, a count in the metrics, and a place among the recent alerts `GET /ids` lists. The settings
/// are read from the configuration in force at each event, so a reload applies from the next one on.
public final class IntrusionMonitor: Sendable {
    private struct State {
        var inbound = IntrusionLedger()
        var outbound = IntrusionLedger()
        /// Newest first, at most `keptAlerts`.
        var recentAlerts: [AccessLogEntry] = []

        /// The direction's ledger, changed in place: a get-and-set would copy its tables on every event.
        mutating func withLedger<Result>(
            _ direction: TrafficDirection, _ body: (inout IntrusionLedger) -> Result
        ) -> Result {
            switch direction {
            case .inbound: body(&inbound)
            case .outbound: body(&outbound)
            }
        }
    }

    /// How many alerts `GET /ids` lists.
    static let keptAlerts = 100

    private let state = Mutex(State())
    private let recorder: TrafficRecorder
    private let logger: Logger

    public init(recorder: TrafficRecorder, logger: Logger) {
        self.recorder = recorder
        self.logger = logger
    }

    /// What a finding is about, beyond its source: for its alert line.
    struct Subject {
        var destination: String?
        var method: String?
        var host: String?
        var path: String?
    }

    /// A connection just accepted, before anything is decided of it: true when its source is blocked (the caller
    /// resets it, and it counts for nothing). Otherwise it counts towards a scan, which may block the source there
    /// and then: the connection that completed the scan is refused too.
    func admit(
        _ facts: ConnectionFacts, destination: @autoclosure () -> String, in configuration: ProxyConfiguration
    ) -> Bool {
        var blocked = false
        let finding = record(facts, in: configuration) { ledger, settings, maxBlockedSources, now in
            blocked = ledger.isBlocked(facts.sourceAddress, now: now)
            guard !blocked else { return nil }
            return ledger.connectionAccepted(
                from: facts.sourceAddress, to: facts.destinationAddress, port: facts.destinationPort,
                under: settings, maxBlockedSources: maxBlockedSources, now: now, date: Date())
        }
        guard let finding else { return blocked }
        alert(finding, facts: facts, about: Subject(destination: destination()))
        if case .blocked = finding.response { return true }
        return false
    }

    /// The policy denied a connection or a request of this source (intrusion detection's own refusals are not
    /// policy denials, and do not count).
    func denied(_ facts: ConnectionFacts, about subject: Subject, in configuration: ProxyConfiguration) {
        let finding = record(facts, in: configuration) { ledger, settings, maxBlockedSources, now in
            ledger.denied(
                from: facts.sourceAddress, under: settings, maxBlockedSources: maxBlockedSources, now: now,
                date: Date())
        }
        if let finding { alert(finding, facts: facts, about: subject) }
    }

    /// A request matched a signature (the planner has already refused it in `prevent` mode).
    func signatureMatched(
        _ match: SignatureMatch, facts: ConnectionFacts, about subject: Subject, in configuration: ProxyConfiguration
    ) {
        let finding = record(facts, in: configuration) { ledger, settings, maxBlockedSources, now in
            ledger.signatureMatched(
                match, from: facts.sourceAddress, under: settings, maxBlockedSources: maxBlockedSources, now: now,
                date: Date())
        }
        if let finding { alert(finding, facts: facts, about: subject) }
    }

    /// A request the side reader of a relayed connection could not read (`what` says what it saw).
    func requestUnreadable(
        _ what: String, facts: ConnectionFacts, about subject: Subject, in configuration: ProxyConfiguration
    ) {
        let finding = record(facts, in: configuration) { ledger, settings, maxBlockedSources, now in
            ledger.requestUnreadable(
                what, from: facts.sourceAddress, under: settings, maxBlockedSources: maxBlockedSources, now: now,
                date: Date())
        }
        if let finding { alert(finding, facts: facts, about: subject) }
    }

    /// Runs `event` on the ledger of the connection's direction, under the settings in force; nothing when that
    /// direction detects nothing.
    private func record(
        _ facts: ConnectionFacts, in configuration: ProxyConfiguration,
        _ event: (inout IntrusionLedger, DirectionDetection, _ maxBlockedSources: Int, ContinuousClock.Instant) ->
            IntrusionFinding?
    ) -> IntrusionFinding? {
        guard let detection = configuration.intrusionDetection,
            let settings = configuration.intrusionDetection(for: facts.direction)
        else { return nil }
        let now = ContinuousClock.now
        return state.withLock { state in
            state.withLedger(facts.direction) { event(&$0, settings, detection.maxBlockedSources, now) }
        }
    }

    /// Lifts the blocks on `source`, either direction. - Returns: whether there was one.
    public func lift(_ source: [UInt8]) -> Bool {
        state.withLock { state in
            let inbound = state.inbound.lift(source)
            let outbound = state.outbound.lift(source)
            return inbound || outbound
        }
    }

    /// The recent alerts and the blocks in force now.
    public func snapshot() -> IntrusionSnapshot {
        let now = ContinuousClock.now
        return state.withLock { state in
            let blocks = [TrafficDirection.inbound, .outbound].flatMap { direction in
                state.withLedger(direction) { $0.activeBlocks(now: now) }.map { block in
                    IntrusionSnapshot.Block(
                        source: IPNetwork.text(ofAddress: block.source), direction: direction.rawValue,
                        detector: block.finding.detector.rawValue, signature: block.finding.signature,
                        since: AccessLogTime(block.since).text,
                        expiresInSeconds: Int((block.until - now).components.seconds) + 1)
                }
            }
            return IntrusionSnapshot(alerts: state.recentAlerts, blocks: blocks.sorted { $0.since > $1.since })
        }
    }

    private func alert(_ finding: IntrusionFinding, facts: ConnectionFacts, about subject: Subject) {
        var entry = AccessLogEntry(
            kind: .alert, start: AccessLogTime(Date()), durationMs: 0, direction: facts.direction.rawValue,
            source: IPNetwork.text(ofAddress: facts.sourceAddress))
        entry.destination = subject.destination
        entry.method = subject.method
        entry.host = subject.host
        entry.path = subject.path
        entry.peerIdentity = facts.peer.map { "\($0)" }
        entry.detector = finding.detector.rawValue
        entry.signature = finding.signature
        entry.severity = finding.severity.rawValue
        entry.evidence = finding.evidence
        entry.location = finding.location
        entry.action = finding.response.name
        if case .blocked(let duration) = finding.response { entry.blockSeconds = Int(duration.components.seconds) }
        recorder.alerted(entry)
        state.withLock { state in
            state.recentAlerts.insert(entry, at: 0)
            if state.recentAlerts.count > Self.keptAlerts { state.recentAlerts.removeLast() }
        }
        logger.warning(
            "intrusion alert: \(finding.name)",
            metadata: [
                "direction": "\(facts.direction)", "source": "\(entry.source)",
                "destination": "\(subject.destination ?? "")", "detector": "\(finding.detector.rawValue)",
                "signature": "\(finding.signature)", "severity": "\(finding.severity.rawValue)",
                "evidence": "\(finding.evidence)", "action": "\(finding.response.name)",
            ])
    }
}
