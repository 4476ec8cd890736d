/// Turns capture settings into the ruleset that redirects the pod's TCP to the proxy. Pure: no kernel, no I/O.
///
/// Each chain reads top to bottom as the order of decisions: the pod's calls to itself first, then what is never
/// captured (the proxy's own sockets, loopback, excluded interfaces), DNS, the operator's exclusions, and the TCP
/// redirect last, so a connection is captured only when no exemption applies.
public enum InterceptionPlanner {
    /// The output chain sees the app's connections; the prerouting chain sees connections into the pod.
    public static func ruleset(for config: InterceptionConfig) -> Ruleset {
        Ruleset(table: config.table, chains: [outputChain(config), preroutingChain(config), adminChain(config)])
    }

    /// Connections to the admin port over loopback from any uid but root's and the proxy's are reset. A filter
    /// chain, after the NAT one: connections to loopback are never redirected, so the port it sees is the one dialed.
    private static func adminChain(_ config: InterceptionConfig) -> Chain {
        let admin: [Match] = [
            .outputInterface(["lo"]), .destinationPort(.tcp, [PortRange(InterceptionConfig.adminPort)]),
        ]
        let allowed = unique([0] + config.proxyUIDs.prefix(1))
        var rules = allowed.map {
            Rule(
                admin + [.socketUID($0)], .returnFromChain,
                $0 == 0 ? "sidecar: admin port, root" : "sidecar: admin port, proxy uid")
        }
        rules.append(Rule(admin, .rejectWithTCPReset, "sidecar: admin port, any other uid"))
        return Chain(
            name: "admin", hook: ChainHook(kind: .filter, point: .output, priority: ChainHook.filterPriority),
            rules: rules)
    }

    private static func outputChain(_ config: InterceptionConfig) -> Chain {
        var rules = selfCallRules(config)
        // The proxy's own upstream connections must leave untouched, or every connection would loop back into it.
        rules += unique(config.proxyUIDs).map { Rule([.socketUID($0)], .returnFromChain, "sidecar: proxy uid") }
        rules += unique(config.proxyGIDs).map { Rule([.socketGID($0)], .returnFromChain, "sidecar: proxy gid") }
        if config.ipv4Only { rules.append(Rule([.family(.ipv6)], .returnFromChain, "sidecar: ipv4 only")) }
        let loopback = config.ipv4Only ? [IPNetwork.ipv4Loopback] : [.ipv4Loopback, .ipv6Loopback]
        rules += loopback.map {
            Rule([.destinationAddress([$0], negated: false)], .returnFromChain, "sidecar: loopback destination")
        }
        if !config.excludedInterfaces.isEmpty {
            rules.append(
                Rule([.outputInterface(config.excludedInterfaces)], .returnFromChain, "sidecar: exclude interface"))
        }
        if config.redirectDNS {
            // IPv4 only: the proxy's DNS listener is 127.0.0.1:15053, and a redirect keeps the packet's family.
            rules += TransportProtocol.allCases.map {
                Rule(
                    [.family(.ipv4), .destinationPort($0, [PortRange(53)])],
                    .redirect(port: InterceptionConfig.dnsRedirectPort), "sidecar: redirect dns")
            }
        }
        if !config.excludedOutboundPorts.isEmpty {
            rules.append(
                Rule(
                    [.destinationPort(.tcp, PortRange.normalized(config.excludedOutboundPorts))], .returnFromChain,
                    "sidecar: exclude outbound port"))
        }
        rules += byFamily(config.excludedOutboundCIDRs).map {
            Rule([.destinationAddress($0, negated: false)], .returnFromChain, "sidecar: exclude outbound cidr")
        }
        if let included = config.includedOutboundCIDRs {
            let families: [IPNetwork.Family] = config.ipv4Only ? [.ipv4] : [.ipv4, .ipv6]
            for family in families {
                let networks = IPNetwork.normalized(included.filter { $0.family == family })
                rules.append(
                    networks.isEmpty
                        ? Rule(
                            [.family(family)], .returnFromChain,
                            "sidecar: no included \(family == .ipv4 ? "ipv4" : "ipv6") cidr")
                        : Rule(
                            [.destinationAddress(networks, negated: true)], .returnFromChain,
                            "sidecar: outside included cidrs"))
            }
        }
        rules.append(
            Rule([.transport([.tcp])], .redirect(port: config.outboundRedirectPort), "sidecar: redirect outbound tcp"))
        return Chain(name: "output", hook: ChainHook(point: .output), rules: rules)
    }

    /// The pod calling itself through its own address: the app's connection is captured outbound as usual; when the
    /// proxy relays it to the pod's address over `lo`, it is sent to the inbound listener, so inbound policy applies
    /// as for any caller. The proxy delivers inbound connections from 127.0.0.6, which must then pass. IPv4 only: the
    /// IPv6 twin (::6) is not an address a pod has.
    private static func selfCallRules(_ config: InterceptionConfig) -> [Rule] {
        let loopback: Match = .outputInterface(["lo"])
        var rules = [
            Rule(
                [loopback, .sourceAddress(InterceptionConfig.inboundDeliverySource)], .returnFromChain,
                "sidecar: inbound delivery")
        ]
        let excluded = InterceptionConfig.proxyServicePorts.map(PortRange.init) + config.excludedInboundPorts
        rules.append(
            Rule(
                [loopback, .destinationPort(.tcp, PortRange.normalized(excluded))], .returnFromChain,
                "sidecar: self-call to an excluded inbound port"))
        let capture: Match =
            config.inboundPorts.map { .destinationPort(.tcp, PortRange.normalized($0)) } ?? .transport([.tcp])
        // The first uid is the one the proxy runs as; the others only bypass capture.
        if let proxy = config.proxyUIDs.first {
            rules.append(
                Rule(
                    [loopback, .destinationAddress([.ipv4Loopback], negated: true), .socketUID(proxy), capture],
                    .redirect(port: config.inboundRedirectPort), "sidecar: self-call to the inbound path"))
        }
        return rules
    }

    private static func preroutingChain(_ config: InterceptionConfig) -> Chain {
        var rules: [Rule] = []
        if config.ipv4Only { rules.append(Rule([.family(.ipv6)], .returnFromChain, "sidecar: ipv4 only")) }
        if !config.excludedInterfaces.isEmpty {
            rules.append(
                Rule([.inputInterface(config.excludedInterfaces)], .returnFromChain, "sidecar: exclude interface"))
        }
        let excluded = InterceptionConfig.proxyServicePorts.map(PortRange.init) + config.excludedInboundPorts
        rules.append(
            Rule(
                [.destinationPort(.tcp, PortRange.normalized(excluded))], .returnFromChain,
                "sidecar: exclude inbound port"))
        let capture: Match =
            config.inboundPorts.map { .destinationPort(.tcp, PortRange.normalized($0)) } ?? .transport([.tcp])
        rules.append(Rule([capture], .redirect(port: config.inboundRedirectPort), "sidecar: redirect inbound tcp"))
        return Chain(name: "prerouting", hook: ChainHook(point: .prerouting), rules: rules)
    }

    /// In order, without repeats.
    private static func unique(_ ids: [UInt32]) -> [UInt32] {
        var seen = Set<UInt32>()
        return ids.filter { seen.insert($0).inserted }
    }

    /// One normalized list per address family present, IPv4 first: a set holds addresses of one family only.
    private static func byFamily(_ networks: [IPNetwork]) -> [[IPNetwork]] {
        [IPNetwork.Family.ipv4, .ipv6].map { family in IPNetwork.normalized(networks.filter { $0.family == family }) }
            .filter { !$0.isEmpty }
    }
}

extension Rule {
    fileprivate init(_ matches: [Match], _ action: RuleAction, _ comment: String) {
        self.init(matches: matches, action: action, comment: comment)
    }
}
