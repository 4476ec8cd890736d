import Intrusion

/// The one place where a connection is decided: a pure function from its facts (direction, original destination,
/// source, the caller's identity, and what its first bytes are) and the configuration in force to a
/// `ConnectionPlan`. The policy's rules, the loop check, the limit, the service and mutual TLS all come from here;
/// what cannot be told fails closed here too.
public enum ConnectionPlanner {
    /// The plan for a connection: called first with `detected` nil; when that plan is `detectFirst`, once more with
    /// what the first bytes are; and when that plan is `terminateMeshTLS`, once more with the caller's identity in
    /// `facts` and the protocol the mesh ALPN names.
    ///
    /// The first bytes matter when the first rule whose L4 conditions hold needs them (SNI or HTTP), when HTTP
    /// would be proxied request by request (a limit that counts requests, or a service whose endpoints answer for
    /// their requests, or an inbound port whose app is told who called), when an inbound port takes mutual TLS (only
    /// a ClientHello tells a sidecar), and when the destination is meshed (the mesh ALPN says what the app speaks). Connections an earlier L4 rule or the default
    /// decides are otherwise never delayed; a loop never waits.
    /// - Parameter names: the addresses names resolved to lately, which allow rules by name check the destination
    ///   against.
    public static func plan(
        _ facts: ConnectionFacts, detected: DetectedProtocol?, in configuration: ProxyConfiguration,
        names: NameAddresses
    ) -> ConnectionPlan {
        if isLoop(facts, configuration) { return ConnectionPlan(handling: .refuseLoop) }
        if facts.sourceBlocked { return ConnectionPlan(handling: .deny, decision: blockedSource) }
        let limit = configuration.limits.first { $0.matches(facts) }
        let service = service(for: facts, configuration)
        let meshPeers = configuration.meshPeers(for: facts, service: service)
        if let admission = admitInbound(facts, detected: detected, in: configuration) {
            return ConnectionPlan(handling: admission.handling, decision: admission.decision, limit: limit)
        }
        let policy = configuration.policy(for: facts.direction)
        let detection = configuration.intrusionDetection(for: facts.direction)
        let inspectsRequests = detection?.signatures != nil
        // Detect mode only watches: HTTP/1 is relayed as it comes and its requests read on the side, so alerting
        // never changes what the app or its peer receive. Prevent mode, and HTTP/2, proxy each request.
        let observesRequests = inspectsRequests && detection?.mode == .detect && detected == .http1
        if detected == nil,
            PolicyEvaluator.needsDetection(policy, for: facts) || limit?.limitsRequests == true
                || service != nil || meshPeers != nil || inspectsRequests
        {
            return ConnectionPlan(handling: .detectFirst, limit: limit, service: service)
        }
        // Where the app is told who called (`mtls.forwardClientCert`), this sidecar vouches for its callers: their
        // HTTP is proxied request by request, so that no client's own `x-forwarded-client-cert` reaches the app.
        // Otherwise HTTP is relayed as it comes, which costs half the CPU per request on the meshed path.
        let vouchesForCaller =
            facts.direction == .inbound && configuration.mtls.forwardClientCert
            && configuration.meshMode(forInboundPort: facts.destinationPort) != .disable
        let verdict = PolicyEvaluator.verdict(
            policy, for: facts, detected: detected, proxiesHTTP: detected?.isHTTP == true, names: names)
        let proxiesRequests =
            detected?.isHTTP == true
            && (limit?.limitsRequests == true || service != nil || vouchesForCaller
                || (inspectsRequests && !observesRequests) || verdict == .perRequest)
        // A meshed destination's HTTP/1.1 requests ride a shared connection as streams, which only requests can, so
        // an app's connection churn costs no handshake. HTTP/2 rides it only where it is proxied stream by stream
        // anyway: relayed in a tunnel of its own it is multiplexed already, at a fifteenth of the CPU per call
        // (scripts/bench). A sidecar's shared connection is taken apart into its requests.
        let sharesConnections =
            configuration.mtls.shareConnections && (detected == .http1 || (detected == .http2 && proxiesRequests))
        let mesh = meshPeers.map {
            MeshOrigination(
                alpn: MeshALPN(detected: detected), expectedPeers: $0, sharesConnections: sharesConnections)
        }
        let carriesStreams = detected == .meshStreams || (meshPeers != nil && sharesConnections)
        let perRequest = proxiesRequests || (detected?.isHTTP == true && carriesStreams)
        let httpHandling: ConnectionPlan.Handling = detected?.isHTTP2 == true ? .http2 : .http1
        switch verdict {
        case .perRequest:
            return ConnectionPlan(handling: httpHandling, limit: limit, service: service, mesh: mesh)
        case .decided(let decision) where decision.action == .deny:
            // Denied for who the caller is, on HTTP already read: each request gets 403 naming the rule (decided
            // again the same way), which tells a caller more than a reset.
            if detected?.isHTTP == true,
                facts.peer != nil || decision.ruleIndex.map({ policy.rules[$0].from != nil }) == true
            {
                return ConnectionPlan(handling: httpHandling, limit: limit)
            }
            return ConnectionPlan(handling: .deny, decision: decision, limit: limit, service: service)
        case .decided(let decision):
            // Each request is counted (or answered for by a service endpoint) on its own, and decided again the
            // same way, which the connection's verdict already showed allows it.
            var plan = ConnectionPlan(
                handling: perRequest ? httpHandling : .relay, decision: decision, limit: limit, service: service,
                mesh: mesh)
            plan.observesRequests = !perRequest && observesRequests
            return plan
        }
    }

    /// The decision for a source intrusion detection blocked.
    public static let blockedSource = PolicyDecision(action: .deny, ruleIndex: nil, ruleName: "ids.block")

    /// The decision a strict port gives what is not mutual TLS.
    public static let strictDenial = PolicyDecision(action: .deny, ruleIndex: nil, ruleName: "mtls.strict")

    /// What mutual TLS decides of an inbound connection before the policy does, while the caller's identity is not
    /// known: wait for the first bytes; terminate a sidecar's ClientHello; on a strict port, deny anything else but
    /// HTTP/1 to a port with declared probes (each request is then a probe or denied). Nil: the policy decides.
    private static func admitInbound(
        _ facts: ConnectionFacts, detected: DetectedProtocol?, in configuration: ProxyConfiguration
    ) -> (handling: ConnectionPlan.Handling, decision: PolicyDecision?)? {
        guard facts.direction == .inbound, facts.peer == nil else { return nil }
        let mode = configuration.meshMode(forInboundPort: facts.destinationPort)
        guard mode != .disable else { return nil }
        guard let detected else { return (.detectFirst, nil) }
        if case .tls(_, let alpn) = detected, MeshALPN.isOffered(in: alpn) { return (.terminateMeshTLS, nil) }
        guard mode == .strict else { return nil }
        if detected == .http1, configuration.mtls.probes.contains(where: { $0.port == facts.destinationPort }) {
            return (.http1, nil)
        }
        return (.deny, strictDenial)
    }

    /// How much of the request's body must be read before it is decided (the request is held until then): for a
    /// form or JSON body, where signatures read bodies. Nil: it is decided on its head.
    public static func bodyBytesToInspect(
        _ request: some HTTPRequestFacts, on facts: ConnectionFacts, in configuration: ProxyConfiguration
    ) -> Int? {
        configuration.intrusionDetection(for: facts.direction)?.signatures?.bodyBytesToInspect(
            contentType: request.header("content-type"))
    }

    /// The one place where an HTTP request is decided, for HTTP/1.1 and HTTP/2 alike. Request signatures read it
    /// first (its target, its header fields, and `body`, the first bytes of a body held for them): in `prevent`
    /// mode a match denies it (rule `ids.<signature id>`), in `detect` mode it goes on to be decided as any other,
    /// with the match for the alert. A strict port lets through only its declared probes from a caller without an
    /// identity; otherwise the policy decides.
    public static func decide(
        _ request: some HTTPRequestFacts, body: [UInt8]? = nil, on facts: ConnectionFacts,
        in configuration: ProxyConfiguration, names: NameAddresses
    ) -> RequestVerdict {
        let detection = configuration.intrusionDetection(for: facts.direction)
        let match = signature(of: request, body: body, on: facts, in: configuration)
        if let match, detection?.mode == .prevent {
            let decision = PolicyDecision(action: .deny, ruleIndex: nil, ruleName: "ids.\(match.signature.id)")
            return RequestVerdict(decision: decision, signature: match, refusedBySignature: true)
        }
        return RequestVerdict(
            decision: policyDecision(request, on: facts, in: configuration, names: names), signature: match)
    }

    /// The first signature a request matches, reading its target as sent, then each header field in order, then
    /// `body`, the first bytes of its body: what `decide` refuses in `prevent` mode, and what a connection that
    /// `observesRequests` alerts on.
    public static func signature(
        of request: some HTTPRequestFacts, body: [UInt8]?, on facts: ConnectionFacts,
        in configuration: ProxyConfiguration
    ) -> SignatureMatch? {
        guard let inspector = configuration.intrusionDetection(for: facts.direction)?.signatures?.inspector else {
            return nil
        }
        return inspector.inspect(request.target.asSent.utf8, as: .target)
            ?? request.firstHeaderField { inspector.inspect(header: $0, value: $1) }
            ?? body.flatMap { inspector.inspect($0, as: .body) }
    }

    private static func policyDecision(
        _ request: some HTTPRequestFacts, on facts: ConnectionFacts, in configuration: ProxyConfiguration,
        names: NameAddresses
    ) -> PolicyDecision {
        if facts.direction == .inbound, facts.peer == nil,
            configuration.meshMode(forInboundPort: facts.destinationPort) == .strict
        {
            let isProbe = configuration.mtls.probes.contains {
                $0.admits(method: request.method, path: request.target.path, port: facts.destinationPort)
            }
            return isProbe ? PolicyDecision(action: .allow, ruleIndex: nil, ruleName: "mtls.probes") : strictDenial
        }
        return PolicyEvaluator.decide(
            configuration.policy(for: facts.direction), for: facts, request: request, names: names)
    }

    /// The first bytes of a connection that was silent through the detect timeout and is already relayed: they
    /// meet the deny rules before the upstream sees them. HTTP cannot be proxied request by request by then, so HTTP
    /// rules count as on a connection the proxy cannot parse: deny rules match, allow rules do not. The result
    /// denies only when a deny rule matches (an allow changes nothing: the connection was already allowed).
    public static func judgeLateBytes(
        _ facts: ConnectionFacts, detected: DetectedProtocol, in configuration: ProxyConfiguration,
        names: NameAddresses
    ) -> PolicyDecision? {
        // The rules are walked in order as for any connection: an allow by name ahead of a deny must be able to
        // match, so the names' addresses count here too.
        let verdict = PolicyEvaluator.verdict(
            configuration.policy(for: facts.direction), for: facts, detected: detected, proxiesHTTP: false,
            names: names)
        guard case .decided(let decision) = verdict, decision.action == .deny else { return nil }
        return decision
    }

    /// A connection aimed at one of the proxy's own ports would come straight back: inbound, any such port is the
    /// proxy's (everything that reaches the inbound listener is for this pod); outbound, only on loopback, where it
    /// arrives unredirected.
    static func isLoop(_ facts: ConnectionFacts, _ configuration: ProxyConfiguration) -> Bool {
        guard configuration.listeners.all.contains(Int(facts.destinationPort)) else { return false }
        return facts.direction == .inbound || facts.destinationIsLoopback
    }

    /// Services are what the app dials out to; inbound connections go to the pod's own ports.
    private static func service(for facts: ConnectionFacts, _ configuration: ProxyConfiguration) -> ServiceDefinition? {
        guard facts.direction == .outbound else { return nil }
        return configuration.service(addressedBy: facts.destinationAddress, port: facts.destinationPort)
    }
}
