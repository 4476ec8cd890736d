import Interception

/// One policy rule: every condition given must hold for the rule to match; the first rule that matches decides.
public struct PolicyRule: Sendable, Hashable {
    public var action: PolicyAction
    /// Named in logs and in a denied request's 403 body; defaults to the rule's position.
    public var name: String?
    /// The original destination lies in one of these networks (any when empty).
    public var cidrs: [IPNetwork] = []
    /// The original destination port is one of these (any when empty).
    public var ports: [PortRange] = []
    /// Inbound only: the connecting peer lies in one of these networks (any when empty).
    public var sourceCidrs: [IPNetwork] = []
    /// TLS only: the ClientHello's server name matches one of these.
    public var sni: [HostPattern] = []
    /// HTTP only: the request matches.
    public var http: HTTPRuleMatch?
    /// Inbound only: the caller's identity matches (callers without one fail closed, as `PeerMatch` says).
    public var from: PeerMatch?

    public init(action: PolicyAction) {
        self.action = action
    }

    /// A rule that needs the application protocol to decide (SNI or HTTP conditions).
    public var isLayer7: Bool { !sni.isEmpty || http != nil }
}
