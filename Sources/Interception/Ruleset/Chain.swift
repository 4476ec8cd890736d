/// A chain of the ruleset; a base chain when it has a hook.
public struct Chain: Sendable, Hashable {
    public var name: String
    public var hook: ChainHook?
    public var rules: [Rule]

    public init(name: String, hook: ChainHook?, rules: [Rule]) {
        self.name = name
        self.hook = hook
        self.rules = rules
    }
}
