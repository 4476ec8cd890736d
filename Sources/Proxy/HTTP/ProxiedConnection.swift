import Logging
import Policy

/// What the HTTP proxies know of a connection proxied request by request, fixed when it was accepted.
struct ProxiedConnection {
    let facts: ConnectionFacts
    let dialer: UpstreamDialer
    /// Read per request: a reload applies from the next request on, also on open connections.
    let configurations: ConfigurationStore
    let logger: Logger
    /// What every log line of this connection carries.
    let logMetadata: Logger.Metadata

    /// Decides a request with the configuration in force now, and logs a denial with its rule.
    func decide(_ request: some HTTPRequestFacts) -> PolicyDecision {
        let policy = configurations.current.policy(for: facts.direction)
        let decision = PolicyEvaluator.decide(policy, for: facts, request: request)
        if decision.action == .deny {
            logger.warning(
                "request denied by policy",
                metadata: logMetadata.merging([
                    "method": "\(request.method)", "host": "\(request.host ?? "")", "path": "\(request.target.path)",
                    "rule": "\(decision.ruleName)", "ruleIndex": "\(decision.ruleIndex.map(String.init) ?? "default")",
                ]) { $1 })
        }
        return decision
    }

    /// The body of a denial, naming the rule so the client's own logs tell why.
    static func denialText(_ decision: PolicyDecision) -> String {
        "denied by sidecar policy: rule \(decision.ruleName)\n"
    }
}
