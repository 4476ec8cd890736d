/// Turns capture settings into the ruleset that redirects the pod's TCP to the proxy. Pure: no kernel, no I/O.
public enum InterceptionPlanner {
    /// The output chain sees the app's connections; the prerouting chain sees connections into the pod.
    public static func ruleset(for config: InterceptionConfig) -> Ruleset {
        Ruleset(table: config.table, chains: [outputChain(config), preroutingChain(config)])
    }

    private static func outputChain(_ config: InterceptionConfig) -> Chain {
        var rules: [Rule] = []
        // The proxy's own upstream connections must leave untouched, or every connection would loop back into it.
        rules += config.proxyUIDs.map {
            Rule(matches: [.socketUID($0)], action: .returnFromChain, comment: "sidecar: proxy uid")
        }
        rules += config.proxyGIDs.map {
            Rule(matches: [.socketGID($0)], action: .returnFromChain, comment: "sidecar: proxy gid")
        }
        rules += [IPNetwork.ipv4Loopback, .ipv6Loopback].map {
            Rule(matches: [.destination($0)], action: .returnFromChain, comment: "sidecar: loopback destination")
        }
        rules.append(
            Rule(
                matches: [.tcp], action: .redirect(port: config.outboundRedirectPort),
                comment: "sidecar: redirect outbound tcp"))
        return Chain(name: "output", hook: ChainHook(point: .output), rules: rules)
    }

    private static func preroutingChain(_ config: InterceptionConfig) -> Chain {
        var excluded = InterceptionConfig.proxyServicePorts
        excluded += config.excludedInboundPorts.filter { !excluded.contains($0) }
        var rules = excluded.map {
            Rule(matches: [.tcpDestinationPort($0)], action: .returnFromChain, comment: "sidecar: exclude inbound port")
        }
        rules.append(
            Rule(
                matches: [.tcp], action: .redirect(port: config.inboundRedirectPort),
                comment: "sidecar: redirect inbound tcp"))
        return Chain(name: "prerouting", hook: ChainHook(point: .prerouting), rules: rules)
    }
}
