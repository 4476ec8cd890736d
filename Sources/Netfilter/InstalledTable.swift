import Interception

/// The project's table as the kernel holds it.
public struct InstalledTable: Sendable, Hashable {
    public var name: String
    /// A dormant table holds its rules without enforcing them (`nft add table inet T { flags dormant; }`).
    public var isDormant: Bool
    /// The table's comment; `install` records the plan's fingerprint in it.
    public var comment: String?
    public var chains: [InstalledChain]

    /// True when the table is exactly the plan `install` recorded in its comment, false when it has drifted since,
    /// nil when it records no plan (another tool made it).
    public var matchesRecordedPlan: Bool? {
        guard let comment, comment.hasPrefix(RulesetFingerprint.commentPrefix) else { return nil }
        return !isDormant && comment == RulesetFingerprint.commentPrefix + RulesetFingerprint.of(self)
    }

    /// The table `plan` would be once installed, with no traffic counted yet.
    init(planned plan: Ruleset) {
        name = plan.table
        isDormant = false
        comment = nil
        chains = plan.chains.map { chain in
            InstalledChain(
                name: chain.name, hook: InstalledChain.expectedHook(chain.hook),
                rules: chain.rules.map {
                    InstalledRule(
                        handle: 0, comment: $0.comment, packets: 0, bytes: 0,
                        expressions: RuleCompiler.expressions(for: $0))
                })
        }
    }

    init(name: String, isDormant: Bool, comment: String?, chains: [InstalledChain]) {
        self.name = name
        self.isDormant = isDormant
        self.comment = comment
        self.chains = chains
    }

    /// Every way the installed table departs from `plan`, one line each; empty when they match. Counter values are
    /// traffic, not configuration, and never count as drift.
    public func drift(from plan: Ruleset) -> [String] {
        var differences: [String] = []
        if isDormant { differences.append("table \(name): dormant, so none of its rules is in force") }
        for chain in chains where !plan.chains.contains(where: { $0.name == chain.name }) {
            differences.append("chain \(chain.name): installed but not planned")
        }
        let expected = InstalledTable(planned: plan)
        for (planned, expectedChain) in zip(plan.chains, expected.chains) {
            guard let installed = chains.first(where: { $0.name == planned.name }) else {
                differences.append("chain \(planned.name): planned but not installed")
                continue
            }
            if installed.hook != expectedChain.hook {
                differences.append("chain \(planned.name): hook differs from the plan")
            }
            differences += Self.ruleDifferences(
                chain: planned.name, planned: planned.rules, expected: expectedChain.rules, installed: installed.rules)
        }
        return differences
    }

    /// Compares the rules as sequences (longest common subsequence), so one inserted or deleted rule reads as one
    /// line rather than as every later rule shifted by one.
    private static func ruleDifferences(
        chain: String, planned: [Rule], expected: [InstalledRule], installed: [InstalledRule]
    ) -> [String] {
        func same(_ a: InstalledRule, _ b: InstalledRule) -> Bool {
            a.comment == b.comment && a.expressions == b.expressions
        }
        // common[i][j]: length of the longest common subsequence of expected[i...] and installed[j...].
        var common = [[Int]](
            repeating: [Int](repeating: 0, count: installed.count + 1), count: expected.count + 1)
        for i in expected.indices.reversed() {
            for j in installed.indices.reversed() {
                common[i][j] =
                    same(expected[i], installed[j]) ? common[i + 1][j + 1] + 1 : max(common[i + 1][j], common[i][j + 1])
            }
        }
        var differences: [String] = []
        var (i, j) = (0, 0)
        while i < expected.count || j < installed.count {
            if i < expected.count && j < installed.count && same(expected[i], installed[j]) {
                (i, j) = (i + 1, j + 1)
            } else if j == installed.count || (i < expected.count && common[i + 1][j] >= common[i][j + 1]) {
                differences.append("chain \(chain): missing rule \(i + 1): \(NftTextRenderer.render(planned[i]))")
                i += 1
            } else {
                differences.append("chain \(chain): unplanned rule at position \(j + 1): \(describe(installed[j]))")
                j += 1
            }
        }
        return differences
    }

    /// A rule the plan does not name, shown as its comment and bytecode.
    private static func describe(_ rule: InstalledRule) -> String {
        let bytecode = rule.expressions.map(\.description).joined(separator: "; ")
        return "handle \(rule.handle) [\(bytecode)] comment \"\(rule.comment ?? "")\""
    }
}
