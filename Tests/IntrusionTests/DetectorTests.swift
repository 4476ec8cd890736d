import Foundation
import Testing

@testable import Intrusion

@Suite struct DetectorTests {
    private let start = ContinuousClock.now
    private let attacker: [UInt8] = [10, 0, 0, 9]
    private let pod: [UInt8] = [10, 0, 0, 2]

    private func settings(_ mode: DetectionMode = .prevent, block: Duration? = .seconds(300)) -> DirectionDetection {
        var settings = DirectionDetection(mode: mode)
        let response: DetectionResponse = block.map { .block(for: $0) } ?? .alert
        settings.scan = ScanDetection(distinctPorts: 5, distinctAddresses: 3, window: .seconds(10), response: response)
        settings.denials = DenialDetection(count: 3, window: .seconds(10), response: response)
        settings.signatures = SignatureDetection(sets: [.sqli], custom: [], response: response)
        return settings
    }

    @Test func portScanIsFoundOnceAndBlocks() {
        var ledger = IntrusionLedger()
        var findings: [IntrusionFinding] = []
        for port in 1...12 {
            let now = start + .milliseconds(port * 10)
            if let finding = ledger.connectionAccepted(
                from: attacker, to: pod, port: UInt16(port), under: settings(), maxBlockedSources: 10, now: now,
                date: Date())
            {
                findings.append(finding)
            }
        }
        #expect(findings.map(\.signature) == ["scan-ports"])
        #expect(findings.first?.evidence == "6 ports of 10.0.0.2 within 10s")
        #expect(findings.first?.response == .blocked(.seconds(300)))
        #expect(ledger.isBlocked(attacker, now: start + .seconds(299)))
        #expect(!ledger.isBlocked(attacker, now: start + .seconds(301)))
        #expect(!ledger.isBlocked(pod, now: start + .seconds(1)))
    }

    @Test func slowOrRepeatedConnectionsAreNoScan() {
        var ledger = IntrusionLedger()
        for index in 0..<100 {
            // One port again and again, and new ports only every 11 s.
            let port = UInt16(index % 10 == 0 ? 1000 + index : 80)
            #expect(
                ledger.connectionAccepted(
                    from: attacker, to: pod, port: port, under: settings(), maxBlockedSources: 10,
                    now: start + .milliseconds(index * 1100), date: Date()) == nil)
        }
    }

    @Test func addressSweepAndDetectModeOnlyAlerts() {
        var ledger = IntrusionLedger()
        var last: IntrusionFinding?
        for host in 1...4 {
            last = ledger.connectionAccepted(
                from: pod, to: [10, 0, 1, UInt8(host)], port: 22, under: settings(.detect), maxBlockedSources: 10,
                now: start, date: Date())
        }
        #expect(last?.signature == "scan-addresses")
        #expect(last?.response == .alerted)
        #expect(!ledger.isBlocked(pod, now: start))
    }

    @Test func denialBurst() {
        var ledger = IntrusionLedger()
        let results = (0..<4).map { index in
            ledger.denied(
                from: attacker, under: settings(block: nil), maxBlockedSources: 10,
                now: start + .seconds(index), date: Date())
        }
        #expect(results.map { $0?.signature } == [nil, nil, "denial-burst", nil])
        #expect(results[2]?.response == .alerted)
    }

    @Test func signatureIsRefusedInPreventModeOnly() throws {
        var ledger = IntrusionLedger()
        var alertOnly = settings(block: nil)
        let match = try #require(alertOnly.signatures?.inspector.inspect("/?id=1 union select 1".utf8, as: .target))
        #expect(
            ledger.signatureMatched(
                match, from: attacker, under: alertOnly, maxBlockedSources: 1, now: start, date: Date()
            )
            .response == .refused)
        alertOnly.mode = .detect
        #expect(
            ledger.signatureMatched(
                match, from: attacker, under: alertOnly, maxBlockedSources: 1, now: start, date: Date()
            )
            .response == .alerted)
        #expect(!ledger.isBlocked(attacker, now: start))
    }

    /// An attacker showing many addresses: the table holds the newest `maxBlockedSources`, the oldest lifted first.
    @Test func blockTableIsBoundedOldestOut() throws {
        var ledger = IntrusionLedger()
        let settings = settings()
        let match = try #require(settings.signatures?.inspector.inspect("/?id=1 union select 1".utf8, as: .target))
        for index in 0..<5000 {
            let source: [UInt8] = [10, 1, UInt8(index / 256), UInt8(index % 256)]
            _ = ledger.signatureMatched(
                match, from: source, under: settings, maxBlockedSources: 100, now: start, date: Date())
        }
        let blocks = ledger.activeBlocks(now: start)
        #expect(blocks.count == 100)
        #expect(blocks.first?.source == [10, 1, 19, 36])  // 4900
        #expect(!ledger.isBlocked([10, 1, 0, 0], now: start))
        let lifted = ledger.lift([10, 1, 19, 135])  // 4999
        let liftedAgain = ledger.lift([10, 1, 19, 135])
        #expect(lifted)
        #expect(!liftedAgain)
        #expect(ledger.activeBlocks(now: start).count == 99)
    }
}
