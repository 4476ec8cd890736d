import Interception
import Netfilter
import Telemetry

/// What `sidecar-status` found, in the shape `--json` prints.
struct StatusReport: Codable {
    struct Interception: Codable {
        var table: String
        var installed: Bool
        /// Whether the table is still exactly the plan `install` recorded in it; nil when absent or recording none.
        var matchesPlan: Bool?
        /// Set when the table could not be read at all (e.g. no permission).
        var error: String?
        var chains: [Chain]
        /// What else could rewrite connections at our hooks: legacy iptables NAT, other tables' NAT chains.
        var warnings: [String] = []

        /// In force as planned: anything else leaves the pod's traffic uncaptured or captured wrongly.
        var isHealthy: Bool { installed && matchesPlan == true }
    }

    struct Chain: Codable {
        var name: String
        var hook: String?
        var priority: Int32?
        var rules: [Rule]
    }

    struct Rule: Codable {
        var handle: UInt64
        var comment: String?
        var packets: UInt64
        var bytes: UInt64
    }

    struct Proxy: Codable {
        var admin: String
        var ready: Bool
        /// Why the proxy is not ready: its answer, or why it could not be asked.
        var detail: String?
        /// What `/stats` answered, when it did.
        var stats: ProxyStats?
        /// What `/services` answered: each service's endpoints, their health and load.
        var services: [ServiceSnapshot]?
        /// What `/ids` answered: recent intrusion alerts and the sources blocked now.
        var intrusion: IntrusionSnapshot?
    }

    var interception: Interception
    var proxy: Proxy

    /// Healthy means the capture rules are in place and the proxy takes traffic.
    var isHealthy: Bool { interception.isHealthy && proxy.ready }
}

extension StatusReport.Interception {
    /// The report for what the kernel returned for `table`: the table, or nil when absent.
    init(table: String, readBack installed: InstalledTable?, warnings: [String]) {
        self.init(
            table: table, installed: installed != nil, matchesPlan: installed?.matchesRecordedPlan, error: nil,
            chains: (installed?.chains ?? []).map { chain in
                StatusReport.Chain(
                    name: chain.name, hook: chain.hook.map(Self.hookName), priority: chain.hook?.priority,
                    rules: chain.rules.map {
                        StatusReport.Rule(handle: $0.handle, comment: $0.comment, packets: $0.packets, bytes: $0.bytes)
                    })
            }, warnings: warnings)
    }

    /// Our table's hooks in the planner's terms, for the conflict check: only the chains and their hooks count.
    static func hooks(of installed: InstalledTable) -> Ruleset {
        Ruleset(
            table: installed.name,
            chains: installed.chains.compactMap { chain in
                guard let hook = chain.hook, let point = hook.pointName.flatMap(ChainHook.Point.init) else {
                    return nil
                }
                return Chain(name: chain.name, hook: ChainHook(point: point, priority: hook.priority), rules: [])
            })
    }

    private static func hookName(_ hook: InstalledChain.Hook) -> String {
        "\(hook.type) \(hook.pointName ?? "hook \(hook.number)")"
    }
}
