/// Decides connections against a direction's policy: the first rule whose conditions all hold wins, else the
/// default. Pure, and allocation-free per decision: it runs once per connection, never per chunk.
public enum PolicyEvaluator {
    public static func decide(_ policy: DirectionPolicy, for connection: ConnectionFacts) -> PolicyDecision {
        for (index, rule) in policy.rules.enumerated() where matches(rule, connection) {
            return PolicyDecision(action: rule.action, ruleIndex: index, ruleName: rule.name ?? "rules[\(index)]")
        }
        return PolicyDecision(action: policy.defaultAction, ruleIndex: nil, ruleName: "default")
    }

    /// The L4 conditions: destination networks and ports, and for inbound the peer's networks.
    static func matches(_ rule: PolicyRule, _ connection: ConnectionFacts) -> Bool {
        (rule.cidrs.isEmpty || rule.cidrs.contains { $0.contains(address: connection.destinationAddress) })
            && (rule.ports.isEmpty || rule.ports.contains { $0.contains(connection.destinationPort) })
            && (rule.sourceCidrs.isEmpty
                || (connection.direction == .inbound
                    && rule.sourceCidrs.contains { $0.contains(address: connection.sourceAddress) }))
    }
}
