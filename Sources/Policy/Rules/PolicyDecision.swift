/// The outcome of evaluating a policy, and which rule gave it.
public struct PolicyDecision: Sendable, Hashable, CustomStringConvertible {
    public let action: PolicyAction
    /// The rule's position in its list (from 0), or nil when the direction's default decided.
    public let ruleIndex: Int?
    /// The rule's name, `rules[N]` when it has none, or `default`.
    public let ruleName: String

    public init(action: PolicyAction, ruleIndex: Int?, ruleName: String) {
        self.action = action
        self.ruleIndex = ruleIndex
        self.ruleName = ruleName
    }

    public var description: String { "\(action) by \(ruleName)" }
}
