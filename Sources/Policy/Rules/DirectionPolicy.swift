/// The policy of one direction: ordered rules, and what happens when none matches.
public struct DirectionPolicy: Sendable, Hashable {
    public var defaultAction: PolicyAction = .allow
    public var rules: [PolicyRule] = []

    public init() {}
}
