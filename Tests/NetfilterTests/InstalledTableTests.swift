import Interception
import Testing

@testable import Netfilter

@Suite struct InstalledTableTests {
    let plan = InterceptionPlanner.ruleset(for: InterceptionConfig())

    /// What the kernel would report right after installing `plan`, with traffic already counted.
    func installed(_ ruleset: Ruleset) -> InstalledTable {
        var table = InstalledTable(planned: ruleset)
        table.comment = RulesetFingerprint.tableComment(for: ruleset)
        for chain in table.chains.indices {
            for rule in table.chains[chain].rules.indices {
                table.chains[chain].rules[rule].handle = UInt64(chain * 10 + rule + 4)
                table.chains[chain].rules[rule].packets = 7
                table.chains[chain].rules[rule].bytes = 420
            }
        }
        return table
    }

    @Test func freshInstallHasNoDriftWhateverTheCounters() {
        #expect(installed(plan).drift(from: plan).isEmpty)
    }

    @Test func aChangedRuleIsReportedAsMissingAndUnplanned() throws {
        var table = installed(plan)
        let index = try #require(table.chains[0].rules.firstIndex { $0.comment == "sidecar: proxy uid" })
        table.chains[0].rules[index].expressions = RuleCompiler.expressions(
            for: Rule(matches: [.socketUID(1000)], action: .returnFromChain, comment: "sidecar: proxy uid"))
        #expect(
            table.drift(from: plan) == [
                "chain output: missing rule \(index + 1): meta skuid 1337 counter return comment \"sidecar: proxy uid\"",
                "chain output: unplanned rule at position \(index + 1): handle \(index + 4) [meta load 10 => reg 1; "
                    + "cmp eq reg 1 0xe8030000; counter; verdict -5] comment \"sidecar: proxy uid\"",
            ])
        #expect(table.matchesRecordedPlan == false)
    }

    /// One foreign rule inserted at the top is one difference, not every later rule shifted.
    @Test func anInsertedRuleIsOneDifference() {
        var table = installed(plan)
        let foreign = InstalledRule(
            handle: 99, comment: nil, packets: 0, bytes: 0,
            expressions: RuleCompiler.expressions(
                for: Rule(matches: [.destinationPort(.tcp, [PortRange(22)])], action: .returnFromChain, comment: "")))
        table.chains[0].rules.insert(foreign, at: 0)
        let drift = table.drift(from: plan)
        #expect(drift.count == 1)
        #expect(drift.first?.hasPrefix("chain output: unplanned rule at position 1: handle 99 [") == true)
    }

    @Test func theRecordedPlanIsMatchedUntilTheTableChanges() {
        var table = installed(plan)
        #expect(table.matchesRecordedPlan == true)
        table.chains[1].rules[1].comment = "edited"
        #expect(table.matchesRecordedPlan == false)
        table.comment = nil
        #expect(table.matchesRecordedPlan == nil, "a table another tool made records no plan")
    }

    @Test func theFingerprintFollowsTheSettings() {
        var settings = InterceptionConfig()
        settings.proxyUIDs = [1500]
        let other = InterceptionPlanner.ruleset(for: settings)
        #expect(RulesetFingerprint.tableComment(for: plan) == RulesetFingerprint.tableComment(for: plan))
        #expect(RulesetFingerprint.tableComment(for: plan) != RulesetFingerprint.tableComment(for: other))
        #expect(RulesetFingerprint.tableComment(for: plan).hasPrefix("sidecar-init plan fnv1a64:"))
    }

    @Test func missingAndExtraPiecesAreReported() {
        var table = installed(plan)
        table.chains[1].rules.removeLast()
        table.chains.append(InstalledChain(name: "extra", hook: nil, rules: []))
        let drift = table.drift(from: plan)
        #expect(drift.contains("chain extra: installed but not planned"))
        #expect(
            drift.contains(
                "chain prerouting: missing rule 2: meta l4proto tcp counter redirect to :15006 comment \"sidecar: redirect inbound tcp\""
            ))
    }

    @Test func aDormantTableIsDriftEvenWithEveryRuleInPlace() {
        var table = installed(plan)
        table.isDormant = true
        #expect(table.drift(from: plan) == ["table sidecar: dormant, so none of its rules is in force"])
        #expect(table.matchesRecordedPlan == false)
    }

    @Test func aHookAtAnotherPriorityIsDrift() {
        var table = installed(plan)
        table.chains[0].hook?.priority = 0
        #expect(table.drift(from: plan) == ["chain output: hook differs from the plan"])
    }
}
