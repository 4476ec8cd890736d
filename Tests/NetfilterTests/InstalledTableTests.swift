import Interception
import Testing

@testable import Netfilter

@Suite struct InstalledTableTests {
    let plan = InterceptionPlanner.ruleset(for: InterceptionConfig())

    /// What the kernel would report right after installing `plan`, with traffic already counted.
    func installed(_ ruleset: Ruleset) -> InstalledTable {
        InstalledTable(
            name: ruleset.table, isDormant: false,
            chains: ruleset.chains.map { chain in
                InstalledChain(
                    name: chain.name, hook: InstalledChain.expectedHook(chain.hook),
                    rules: chain.rules.enumerated().map { index, rule in
                        InstalledRule(
                            handle: UInt64(index + 4), comment: rule.comment, packets: 7, bytes: 420,
                            expressions: RuleCompiler.expressions(for: rule))
                    })
            })
    }

    @Test func freshInstallHasNoDriftWhateverTheCounters() {
        #expect(installed(plan).drift(from: plan).isEmpty)
    }

    @Test func aChangedRuleIsReportedWithWhatWasPlanned() {
        var table = installed(plan)
        table.chains[0].rules[0].expressions = RuleCompiler.expressions(
            for: Rule(matches: [.socketUID(1000)], action: .returnFromChain, comment: "sidecar: proxy uid"))
        #expect(
            table.drift(from: plan) == [
                "chain output rule 1: planned meta skuid 1337 counter return comment \"sidecar: proxy uid\"; installed rule handle 4 (sidecar: proxy uid)"
            ])
    }

    @Test func missingAndExtraPiecesAreReported() {
        var table = installed(plan)
        table.chains[1].rules.removeLast()
        table.chains.append(InstalledChain(name: "extra", hook: nil, rules: []))
        let drift = table.drift(from: plan)
        #expect(drift.contains("chain extra: installed but not planned"))
        #expect(
            drift.contains {
                $0.hasPrefix("chain prerouting rule 3: planned meta l4proto tcp") && $0.hasSuffix("installed nothing")
            })
    }

    @Test func aDormantTableIsDriftEvenWithEveryRuleInPlace() {
        var table = installed(plan)
        table.isDormant = true
        #expect(table.drift(from: plan) == ["table sidecar: dormant, so none of its rules is in force"])
    }

    @Test func aHookAtAnotherPriorityIsDrift() {
        var table = installed(plan)
        table.chains[0].hook?.priority = 0
        #expect(table.drift(from: plan) == ["chain output: hook differs from the plan"])
    }
}
