import Intrusion

/// What `ConnectionPlanner.decide` says of one HTTP request: the decision, and the signature it matched, if any
/// (in `detect` mode a request can be allowed, or denied by a rule, and still raise an alert).
public struct RequestVerdict: Sendable, Hashable {
    public let decision: PolicyDecision
    public let signature: SignatureMatch?
    /// Denied for the signature (`prevent` mode) rather than by the policy: not a policy denial for a burst.
    public let refusedBySignature: Bool

    public init(decision: PolicyDecision, signature: SignatureMatch? = nil, refusedBySignature: Bool = false) {
        self.decision = decision
        self.signature = signature
        self.refusedBySignature = refusedBySignature
    }
}
