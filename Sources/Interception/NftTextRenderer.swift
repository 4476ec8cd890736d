/// Renders a ruleset in the syntax `nft -f` reads, for `sidecar-init plan` and the golden tests.
public enum NftTextRenderer {
    /// - Parameter tableComment: the table's comment, if it carries one (`install` records the plan's fingerprint).
    public static func render(_ ruleset: Ruleset, tableComment: String? = nil) -> String {
        var lines = ["table inet \(ruleset.table) {"]
        if let tableComment { lines += ["\tcomment \(quoted(tableComment))"] }
        for (index, chain) in ruleset.chains.enumerated() {
            if index > 0 { lines.append("") }
            lines.append("\tchain \(chain.name) {")
            if let hook = chain.hook {
                lines.append(
                    "\t\ttype \(hook.kind.rawValue) hook \(hook.point.rawValue) priority \(priorityText(hook)); policy accept;"
                )
            }
            lines += chain.rules.map { "\t\t" + render($0) }
            lines.append("\t}")
        }
        lines.append("}")
        return lines.joined(separator: "\n") + "\n"
    }

    public static func render(_ rule: Rule) -> String {
        let parts = rule.matches.map(render) + ["counter", render(rule.action), "comment \(quoted(rule.comment))"]
        return parts.joined(separator: " ")
    }

    static func render(_ match: Match) -> String {
        switch match {
        case .socketUID(let uid): "meta skuid \(uid)"
        case .socketGID(let gid): "meta skgid \(gid)"
        case .family(let family): "meta nfproto \(family == .ipv4 ? "ipv4" : "ipv6")"
        case .destinationAddress(let networks, let negated):
            "\(keyword(networks[0].family)) daddr \(negated ? "!= " : "")\(list(networks.map(\.description)))"
        case .sourceAddress(let network): "\(keyword(network.family)) saddr \(network)"
        case .transport(let protocols): "meta l4proto \(list(protocols.map(\.rawValue)))"
        case .destinationPort(let transport, let ports): "\(transport.rawValue) dport \(list(ports.map(\.description)))"
        case .outputInterface(let names): "oifname \(list(names.map(quoted)))"
        case .inputInterface(let names): "iifname \(list(names.map(quoted)))"
        }
    }

    /// One value bare, several as an anonymous set: `22` or `{ 22, 8000-8999 }`.
    private static func list(_ values: [String]) -> String {
        values.count == 1 ? values[0] : "{ " + values.joined(separator: ", ") + " }"
    }

    private static func keyword(_ family: IPNetwork.Family) -> String {
        family == .ipv4 ? "ip" : "ip6"
    }

    static func render(_ action: RuleAction) -> String {
        switch action {
        case .returnFromChain: "return"
        case .redirect(let port): "redirect to :\(port)"
        case .rejectWithTCPReset: "reject with tcp reset"
        }
    }

    /// nftables names -100 `dstnat` only at the prerouting hook; elsewhere it prints the number.
    private static func priorityText(_ hook: ChainHook) -> String {
        hook.point == .prerouting && hook.priority == ChainHook.dstnatPriority ? "dstnat" : String(hook.priority)
    }

    private static func quoted(_ text: String) -> String {
        "\"" + String(text.map { $0 == "\"" ? "'" : $0 }) + "\""
    }
}
