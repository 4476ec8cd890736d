/// Decides connections against a direction's policy: the first rule whose conditions all hold wins, else the
/// default. Pure, and allocation-free per decision: it runs once per connection, never per chunk.
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

    /// True when some rule that could apply to this connection needs its first bytes to decide: then the proxy
    /// detects the protocol before deciding. Connections no such rule could match pay nothing.
    public static func needsDetection(_ policy: DirectionPolicy, for connection: ConnectionFacts) -> Bool {
        policy.rules.contains { $0.isLayer7 && matches($0, connection) }
    }

    /// The application conditions: every SNI rule needs a TLS ClientHello whose server name fits one of its patterns.
    static func matchesApplication(_ rule: PolicyRule, _ detected: DetectedProtocol?) -> Bool {
        guard !rule.sni.isEmpty else { return true }
        guard case .tls(let serverName?, _) = detected else { return false }
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
