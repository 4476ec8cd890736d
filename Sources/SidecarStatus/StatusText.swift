import Telemetry

/// The human summary of a status report: aligned columns, and on a terminal the verdicts in colour (green when in
/// order, red when not); plain text when piped or when `NO_COLOR` is set.
enum StatusText {
    static func render(_ report: StatusReport, colour: Bool = false) -> String {
        let good = { (text: String) in colour ? "\u{1B}[32m\(text)\u{1B}[0m" : text }
        let bad = { (text: String) in colour ? "\u{1B}[31m\(text)\u{1B}[0m" : text }
        var lines: [String] = []
        let interception = report.interception
        if let error = interception.error {
            lines.append("interception: unknown (table inet \(interception.table) unreadable: \(error))")
        } else if interception.installed {
            let rules = interception.chains.reduce(0) { $0 + $1.rules.count }
            let plan =
                switch interception.matchesPlan {
                case true?: good("matches its plan")
                case false?: bad("DRIFTED from the plan install recorded (sidecar-init verify shows how)")
                case nil: bad("records no plan (not installed by sidecar-init)")
                }
            lines.append(
                "interception: installed (table inet \(interception.table), \(interception.chains.count) chains, "
                    + "\(rules) rules), \(plan)")
            for chain in interception.chains {
                let hook = chain.hook.map { " (\($0), priority \(chain.priority ?? 0))" } ?? ""
                lines.append("  chain \(chain.name)\(hook)")
                let width = chain.rules.map { ($0.comment ?? "(no comment)").count }.max() ?? 0
                let packetWidth = chain.rules.map { "\($0.packets)".count }.max() ?? 0
                let byteWidth = chain.rules.map { "\($0.bytes)".count }.max() ?? 0
                for rule in chain.rules {
                    let comment = (rule.comment ?? "(no comment)").padding(toLength: width)
                    lines.append(
                        "    \(comment)  \("\(rule.packets)".leftPadding(toLength: packetWidth)) packets, "
                            + "\("\(rule.bytes)".leftPadding(toLength: byteWidth)) bytes")
                }
            }
        } else {
            lines.append("interception: " + bad("absent") + " (no table inet \(interception.table))")
        }
        for warning in interception.warnings { lines.append("  " + bad("warning:") + " \(warning)") }
        let proxy = report.proxy
        lines.append(
            "proxy: " + (proxy.ready ? good("ready") : bad("not ready")) + " (admin \(proxy.admin))"
                + (proxy.detail.map { ": \($0)" } ?? ""))
        if let stats = proxy.stats { lines += describe(stats) + describeSecurity(stats, good: good, bad: bad) }
        lines += describe(proxy.services ?? [], good: good, bad: bad)
        if let intrusion = proxy.intrusion { lines += describe(intrusion, bad: bad) }
        if !report.isHealthy {
            var degraded: [String] = []
            if !interception.isHealthy { degraded.append("interception") }
            if !proxy.ready { degraded.append("proxy") }
            lines.append(bad("degraded: " + degraded.joined(separator: ", ")))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// What the proxy is doing: version, uptime, configuration, connections, busiest destinations, latest denials.
    private static func describe(_ stats: ProxyStats) -> [String] {
        var lines = [
            "  version \(stats.version), up \(duration(stats.uptimeSeconds)), configuration generation "
                + "\(stats.configGeneration), \(stats.failedReloads) refused reloads"
        ]
        if let error = stats.lastReloadError {
            lines.append("  last reload refused: " + error.split(separator: "\n").joined(separator: "; "))
        }
        let traffic = stats.traffic
        let connections = ["outbound", "inbound"].map { direction in
            "\(direction) \(traffic.activeConnections[direction] ?? 0) open, "
                + "\(traffic.totalConnections[direction] ?? 0) in all"
        }
        lines.append("  connections: " + connections.joined(separator: "; "))
        if !traffic.topDestinations.isEmpty {
            lines.append(
                "  top destinations: "
                    + traffic.topDestinations.prefix(5).map { "\($0.destination) (\($0.connections))" }
                    .joined(separator: ", "))
        }
        if !traffic.recentDenials.isEmpty {
            lines.append("  recent denials:")
            for denial in traffic.recentDenials.prefix(5) {
                let request = denial.request.map { " \($0)" } ?? ""
                lines.append(
                    "    \(denial.time) \(denial.direction) \(denial.source) -> \(denial.destination)\(request): "
                        + "rule \(denial.rule)")
            }
        }
        return lines
    }

    /// Who the workload is, what it trusts, what mutual TLS does, and how the connections so far were secured: what
    /// is still plaintext, before a port turns strict.
    private static func describeSecurity(
        _ stats: ProxyStats, good: (String) -> String, bad: (String) -> String
    ) -> [String] {
        var lines: [String] = []
        if let identity = stats.identity {
            let left =
                identity.secondsLeft > 0
                ? good("\(duration(identity.secondsLeft)) left") : bad("EXPIRED: meshed connections fail")
            lines.append("  identity: \(identity.id), valid until \(identity.validUntil) (\(left))")
            lines.append(
                "  trust bundle: "
                    + identity.trustRoots.map { "\($0.subject) (until \($0.validUntil))" }.joined(separator: ", "))
            let ports = identity.portModes.sorted { (Int($0.key) ?? 0) < (Int($1.key) ?? 0) }
                .map { "port \($0.key) \($0.value)" }
            lines.append("  mutual TLS: \(([identity.mode] + ports).joined(separator: "; "))")
            if let refusal = identity.lastRefusal {
                lines.append(
                    "  " + bad("identity files refused")
                        + " (the identity above serves on): \(refusal.split(separator: "\n").joined(separator: "; "))")
            }
        } else {
            lines.append("  identity: none (no mutual TLS)")
        }
        let secured = ["outbound", "inbound"].compactMap { direction -> String? in
            guard let counts = stats.traffic.connectionsByTLS[direction], !counts.isEmpty else { return nil }
            let kinds = ["mtls", "passthrough", "plaintext"].compactMap { kind in counts[kind].map { "\($0) \(kind)" } }
            return "\(direction) " + kinds.joined(separator: ", ")
        }
        if !secured.isEmpty { lines.append("  connections by TLS: " + secured.joined(separator: "; ")) }
        return lines
    }

    /// Each service's endpoints: in rotation or not and why, what the last health check saw, and their load.
    private static func describe(_ services: [ServiceSnapshot], good: (String) -> String, bad: (String) -> String)
        -> [String]
    {
        var lines: [String] = []
        for service in services {
            lines.append("  service \(service.name) \(service.address) (\(service.balancer)):")
            if service.endpoints.isEmpty { lines.append("    no endpoint resolved yet (names resolve on first use)") }
            let width = service.endpoints.map(\.address.count).max() ?? 0
            for endpoint in service.endpoints {
                var state: [String] = []
                switch endpoint.health {
                case "healthy": state.append(good("healthy"))
                case "unhealthy": state.append(bad("UNHEALTHY, out of rotation"))
                case let other?: state.append(other)
                case nil: break
                }
                if endpoint.ejected { state.append(bad("ejected")) }
                state.append("\(endpoint.openConnections) open")
                let check = endpoint.lastResult.map { " (last check \($0) at \(endpoint.lastCheck ?? "?"))" } ?? ""
                lines.append(
                    "    \(endpoint.address.padding(toLength: width))  \(state.joined(separator: ", "))\(check)")
            }
        }
        return lines
    }

    /// The sources blocked now and the latest alerts, newest first: what an operator looks at first in an attack.
    private static func describe(_ intrusion: IntrusionSnapshot, bad: (String) -> String) -> [String] {
        var lines: [String] = []
        if !intrusion.blocks.isEmpty {
            lines.append("  " + bad("blocked sources: \(intrusion.blocks.count)"))
            for block in intrusion.blocks.prefix(5) {
                lines.append(
                    "    \(block.source) \(block.direction) by \(block.signature) since \(block.since), "
                        + "\(duration(block.expiresInSeconds)) left")
            }
        }
        if !intrusion.alerts.isEmpty {
            lines.append("  intrusion alerts (latest \(min(intrusion.alerts.count, 5)) of \(intrusion.alerts.count)):")
            for alert in intrusion.alerts.prefix(5) {
                let target = [alert.method, alert.path].compactMap { $0 }.joined(separator: " ")
                lines.append(
                    "    \(alert.start.text) \(alert.direction) \(alert.source) -> \(alert.destination ?? "?")"
                        + (target.isEmpty ? "" : " \(target)") + ": "
                        + bad("\(alert.signature ?? "?") (\(alert.severity ?? "?"))")
                        + " \(alert.action ?? "alert"), \(alert.location.map { "in \($0): " } ?? "")\(alert.evidence ?? "")"
                )
            }
        }
        return lines
    }

    /// The two largest units: `3d 4h`, `2h 5m`, `4m 10s`, `9s`.
    static func duration(_ seconds: Int) -> String {
        let units = [("d", 86_400), ("h", 3_600), ("m", 60), ("s", 1)]
        var remaining = seconds
        var shown: [String] = []
        for (unit, size) in units where remaining >= size || (shown.isEmpty && unit == "s") {
            shown.append("\(remaining / size)\(unit)")
            remaining %= size
            if shown.count == 2 { break }
        }
        return shown.joined(separator: " ")
    }
}

extension String {
    fileprivate func padding(toLength length: Int) -> String {
        count >= length ? self : self + String(repeating: " ", count: length - count)
    }

    fileprivate func leftPadding(toLength length: Int) -> String {
        count >= length ? self : String(repeating: " ", count: length - count) + self
    }
}
