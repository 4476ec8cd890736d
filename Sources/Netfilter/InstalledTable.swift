import Interception

/// The project's table as the kernel holds it.
public struct InstalledTable: Sendable, Hashable {
    public var name: String
    /// A dormant table holds its rules without enforcing them (`nft add table inet T { flags dormant; }`).
    public var isDormant: Bool
    public var chains: [InstalledChain]

    /// Every way the installed table departs from `plan`, one line each; empty when they match. Counter values are
    /// traffic, not configuration, and never count as drift.
    public func drift(from plan: Ruleset) -> [String] {
        var differences: [String] = []
        if isDormant { differences.append("table \(name): dormant, so none of its rules is in force") }
        let planned = Dictionary(uniqueKeysWithValues: plan.chains.map { ($0.name, $0) })
        for chain in chains where planned[chain.name] == nil {
            differences.append("chain \(chain.name): installed but not planned")
        }
        for chain in plan.chains {
            guard let installed = chains.first(where: { $0.name == chain.name }) else {
                differences.append("chain \(chain.name): planned but not installed")
                continue
            }
            if installed.hook != InstalledChain.expectedHook(chain.hook) {
                differences.append("chain \(chain.name): hook differs from the plan")
            }
            for index in 0..<max(chain.rules.count, installed.rules.count) {
                let plannedRule = index < chain.rules.count ? chain.rules[index] : nil
                let installedRule = index < installed.rules.count ? installed.rules[index] : nil
                let plannedExpressions = plannedRule.map(RuleCompiler.expressions(for:))
                if plannedExpressions == installedRule?.expressions && plannedRule?.comment == installedRule?.comment {
                    continue
                }
                let want = plannedRule.map(NftTextRenderer.render) ?? "nothing"
                let have = installedRule.map { "rule handle \($0.handle) (\($0.comment ?? "no comment"))" } ?? "nothing"
                differences.append("chain \(chain.name) rule \(index + 1): planned \(want); installed \(have)")
            }
        }
        return differences
    }
}
