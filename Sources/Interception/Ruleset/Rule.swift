/// A rule: all matches must hold, then the action runs. Every rule counts what it matched and names its purpose.
public struct Rule: Sendable, Hashable {
    public var matches: [Match]
    public var action: RuleAction
    /// Stored as the rule's nftables comment, so `nft list` and `sidecar-status` show why the rule exists.
    public var comment: String

    public init(matches: [Match], action: RuleAction, comment: String) {
        self.matches = matches
        self.action = action
        self.comment = comment
    }
}
