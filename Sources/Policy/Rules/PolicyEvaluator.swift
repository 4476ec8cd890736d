/// Decides connections against a direction's policy: the first rule whose conditions all hold wins, else the
/// default. Pure; it runs once per connection, never per chunk (L4 matching compares addresses in place).
public enum PolicyEvaluator {
    /// - Parameter detected: what the connection speaks, when it was detected; rules that need the application
    ///   protocol (SNI) match only when it is known and fits.
    public static func decide(
        _ policy: DirectionPolicy, for connection: ConnectionFacts, detected: DetectedProtocol? = nil
    ) -> PolicyDecision {
        for (index, rule) in policy.rules.enumerated()
        where matches(rule, connection) && matchesApplication(rule, detected) {
            return PolicyDecision(action: rule.action, ruleIndex: index, ruleName: rule.name ?? "rules[\(index)]")
        }
        return PolicyDecision(action: policy.defaultAction, ruleIndex: nil, ruleName: "default")
    }

    /// True when the rule that could decide this connection first needs its first bytes: walking the rules in
    /// order, the first one whose L4 conditions hold is an SNI rule. Connections an earlier L4 rule (or the default)
    /// decides are never delayed.
    public static func needsDetection(_ policy: DirectionPolicy, for connection: ConnectionFacts) -> Bool {
        policy.rules.first { matches($0, connection) }?.isLayer7 ?? false
    }

    /// The application conditions. An SNI rule needs a TLS ClientHello whose server name fits one of its patterns.
    /// A connection that began as TLS but whose name could not be read (malformed, too large, cut off by the detect
    /// timeout) matches deny rules and no allow rule: it fails closed, never through to a later rule.
    static func matchesApplication(_ rule: PolicyRule, _ detected: DetectedProtocol?) -> Bool {
        guard !rule.sni.isEmpty else { return true }
        guard case .tls(let serverName, _) = detected else { return false }
        guard let serverName else { return rule.action == .deny }
        return rule.sni.contains { $0.matches(serverName) }
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
