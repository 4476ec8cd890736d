/// Decides connections and HTTP requests against a direction's policy: the first rule whose conditions all hold wins,
/// else the default. Pure; it runs once per connection and once per HTTP request, never per chunk (L4 matching
/// compares addresses in place).
public enum PolicyEvaluator {
    /// Decides a connection without regard to HTTP rules: for connections whose protocol was not detected, or that
    /// are proxied as bytes.
    /// - Parameter detected: what the connection speaks, when it was detected; rules that need the application
    ///   protocol (SNI) match only when it is known and fits.
    public static func decide(
        _ policy: DirectionPolicy, for connection: ConnectionFacts, detected: DetectedProtocol? = nil,
        names: NameAddresses = NameAddresses()
    ) -> PolicyDecision {
        switch verdict(policy, for: connection, detected: detected, proxiesHTTP: false, names: names) {
        case .decided(let decision): decision
        case .perRequest: preconditionFailure("no per-request verdict without HTTP proxying")
        }
    }

    /// Decides a connection once its first bytes are known. Walking the rules in order, an HTTP rule whose L4
    /// conditions hold on an HTTP connection the proxy can parse means every request is decided on its own.
    /// - Parameter proxiesHTTP: whether the proxy can parse what was detected request by request. An HTTP rule on an
    ///   HTTP connection it cannot parse, or on bytes that could still have been HTTP when the detect timeout ran
    ///   out (`undecided`), fails closed: a deny rule matches, an allow rule does not.
    /// - Parameter names: the addresses names resolved to, for allow rules by name.
    public static func verdict(
        _ policy: DirectionPolicy, for connection: ConnectionFacts, detected: DetectedProtocol?, proxiesHTTP: Bool,
        names: NameAddresses
    ) -> ConnectionVerdict {
        for (index, rule) in policy.rules.enumerated() where matches(rule, connection) {
            if rule.http != nil {
                switch detected {
                case .http1?, .http2?, .meshStreams?:
                    if proxiesHTTP { return .perRequest }
                case .undecided?:
                    break
                default:
                    continue
                }
                guard rule.action == .deny else { continue }
            } else if !matchesApplication(rule, detected, connection, names) {
                continue
            }
            return .decided(decision(rule, at: index))
        }
        return .decided(PolicyDecision(action: policy.defaultAction, ruleIndex: nil, ruleName: "default"))
    }

    /// Decides one HTTP request of a connection proxied request by request: SNI rules never match (the connection
    /// is not TLS), HTTP rules match on the request, L4 rules on the connection.
    public static func decide(
        _ policy: DirectionPolicy, for connection: ConnectionFacts, request: some HTTPRequestFacts,
        names: NameAddresses
    ) -> PolicyDecision {
        for (index, rule) in policy.rules.enumerated()
        where rule.sni.isEmpty && matches(rule, connection)
            && (rule.http.map {
                matches($0, request, denying: rule.action == .deny, connection, names)
            } ?? true)
        {
            return decision(rule, at: index)
        }
        return PolicyDecision(action: policy.defaultAction, ruleIndex: nil, ruleName: "default")
    }

    /// True when the rule that could decide this connection first needs its first bytes: walking the rules in
    /// order, the first one whose L4 conditions hold is an SNI or HTTP rule. Connections an earlier L4 rule (or the
    /// default) decides are never delayed.
    public static func needsDetection(_ policy: DirectionPolicy, for connection: ConnectionFacts) -> Bool {
        policy.rules.first { matches($0, connection) }?.isLayer7 ?? false
    }

    private static func decision(_ rule: PolicyRule, at index: Int) -> PolicyDecision {
        PolicyDecision(action: rule.action, ruleIndex: index, ruleName: rule.name ?? "rules[\(index)]")
    }

    /// The application conditions. An SNI rule needs a TLS ClientHello whose server name fits one of its patterns.
    /// A connection that began as TLS but whose name could not be read (malformed, too large, cut off by the detect
    /// timeout) matches deny rules and no allow rule: it fails closed, never through to a later rule. An allow rule
    /// also needs the original destination to be an address the name resolved to: a name is a claim, and an allow
    /// by name is about the name's addresses; a deny rule denies on the claim alone.
    static func matchesApplication(
        _ rule: PolicyRule, _ detected: DetectedProtocol?, _ connection: ConnectionFacts, _ names: NameAddresses
    ) -> Bool {
        guard !rule.sni.isEmpty else { return true }
        guard case .tls(let serverName, _) = detected else { return false }
        guard let serverName else { return rule.action == .deny }
        guard rule.sni.contains(where: { $0.matches(serverName) }) else { return false }
        return rule.action == .deny || isAddress(of: serverName, connection, names)
    }

    /// The HTTP conditions: every one given holds. A request that names no host fails closed, as an unreadable
    /// server name does: it meets the host condition of deny rules and of no allow rule. An allow by host also
    /// needs `destination` to be an address the host resolved to.
    static func matches(
        _ match: HTTPRuleMatch, _ request: some HTTPRequestFacts, denying: Bool, _ connection: ConnectionFacts,
        _ names: NameAddresses
    ) -> Bool {
        if let host = match.host {
            if let requestHost = request.host {
                guard host.matches(requestHost) else { return false }
                guard denying || isAddress(of: requestHost, connection, names) else { return false }
            } else if !denying {
                return false
            }
        }
        if !match.methods.isEmpty && !match.methods.contains(request.method) { return false }
        if let prefix = match.pathPrefix, !request.target.path.hasPrefix(prefix) { return false }
        return match.headers.allSatisfy { request.hasHeader($0.key, matching: $0.value, ignoringCase: denying) }
    }

    /// Whether an outbound connection goes to an address `name` resolved to. Inbound, the destination is the pod
    /// itself, which a name the caller claims (its own host, a Service's name) never resolves to: the check is the
    /// app's, outbound, where a claimed name could otherwise carry a connection anywhere.
    private static func isAddress(of name: some StringProtocol, _ connection: ConnectionFacts, _ names: NameAddresses)
        -> Bool
    {
        connection.direction == .inbound || names.covers(name, address: connection.destinationAddress)
    }

    /// The connection's conditions: destination networks and ports, and for inbound the peer's networks and
    /// identity.
    static func matches(_ rule: PolicyRule, _ connection: ConnectionFacts) -> Bool {
        connection.destination(in: rule.cidrs, on: rule.ports)
            && (rule.sourceCidrs.isEmpty
                || (connection.direction == .inbound
                    && rule.sourceCidrs.contains { $0.contains(address: connection.sourceAddress) }))
            && (rule.from.map { $0.matches(connection.peer, action: rule.action) } ?? true)
    }
}
