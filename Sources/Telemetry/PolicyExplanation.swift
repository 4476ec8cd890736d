/// What the admin API's `/explain` answers: how the policy in force would decide a connection, as `sidecar-status
/// explain` shows it.
public struct PolicyExplanation: Sendable, Codable, Equatable {
    public var direction: String
    public var destination: String
    public var configGeneration: Int
    /// The first rule in reach is an SNI or HTTP rule: the proxy reads the first bytes, and the decision below holds
    /// only for a connection that turns out to be neither TLS nor HTTP.
    public var inspectsFirstBytes: Bool
    /// `allow` or `deny`, the rule's name (`default` when none matched) and its position.
    public var action: String
    public var rule: String
    public var ruleIndex: Int?
    /// Each name an allow rule gives (without a wildcard), with the addresses it currently covers: an allow by that
    /// name admits a connection only to one of these. Nil from a proxy older than this field.
    public var names: [String: [String]]?
    /// The caller's identity the decision was made for (inbound); nil for a caller without one.
    public var peer: String?
    /// What mutual TLS does here, for a workload with an identity: inbound, the port's mode (`strict`,
    /// `permissive`, `disable`); outbound, `originate` to a destination that runs the sidecar, else `none`.
    public var mtls: String?

    public init(
        direction: String, destination: String, configGeneration: Int, inspectsFirstBytes: Bool, action: String,
        rule: String, ruleIndex: Int?, names: [String: [String]], peer: String?, mtls: String?
    ) {
        self.direction = direction
        self.destination = destination
        self.configGeneration = configGeneration
        self.inspectsFirstBytes = inspectsFirstBytes
        self.action = action
        self.rule = rule
        self.ruleIndex = ruleIndex
        self.names = names
        self.peer = peer
        self.mtls = mtls
    }
}
