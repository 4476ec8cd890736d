/// The human summary of a status report.
enum StatusText {
    static func render(_ report: StatusReport) -> String {
        var lines: [String] = []
        let interception = report.interception
        if let error = interception.error {
            lines.append("interception: unknown (table inet \(interception.table) unreadable: \(error))")
        } else if interception.installed {
            let rules = interception.chains.reduce(0) { $0 + $1.rules.count }
            let plan =
                switch interception.matchesPlan {
                case true?: "matches its plan"
                case false?: "DRIFTED from the plan install recorded (sidecar-init verify shows how)"
                case nil: "records no plan (not installed by sidecar-init)"
                }
            lines.append(
                "interception: installed (table inet \(interception.table), \(interception.chains.count) chains, "
                    + "\(rules) rules), \(plan)")
            for chain in interception.chains {
                let hook = chain.hook.map { " (\($0), priority \(chain.priority ?? 0))" } ?? ""
                lines.append("  chain \(chain.name)\(hook)")
                let width = chain.rules.map { ($0.comment ?? "").count }.max() ?? 0
                for rule in chain.rules {
                    let comment = (rule.comment ?? "(no comment)").padding(toLength: width)
                    lines.append("    \(comment)  \(rule.packets) packets, \(rule.bytes) bytes")
                }
            }
        } else {
            lines.append("interception: absent (no table inet \(interception.table))")
        }
        let proxy = report.proxy
        lines.append(
            "proxy: " + (proxy.ready ? "ready" : "not ready") + " (admin \(proxy.admin))"
                + (proxy.detail.map { ": \($0)" } ?? ""))
        if !report.isHealthy {
            var degraded: [String] = []
            if !interception.isHealthy { degraded.append("interception") }
            if !proxy.ready { degraded.append("proxy") }
            lines.append("degraded: " + degraded.joined(separator: ", "))
        }
        return lines.joined(separator: "\n") + "\n"
    }
}

extension String {
    fileprivate func padding(toLength length: Int) -> String {
        count >= length ? self : self + String(repeating: " ", count: length - count)
    }
}
