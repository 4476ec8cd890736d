import Interception

/// A NAT base chain of any table, at the hooks capture uses.
public struct HookedChain: Sendable, Hashable, CustomStringConvertible {
    public var family: String
    public var table: String
    public var chain: String
    public var point: ChainHook.Point
    public var priority: Int32

    public var description: String {
        "table \(family) \(table) chain \(chain) (nat \(point.rawValue), priority \(priority))"
    }

    /// The chains of other tables that act on the pod's connections before ours (a lower priority runs first) or
    /// alongside it (at the same priority the order is not defined): their NAT can send a connection elsewhere
    /// before capture sees it, or capture what we exempt.
    public static func conflicts(in chains: [HookedChain], with plan: Ruleset) -> [HookedChain] {
        chains.filter { chain in
            chain.table != plan.table || chain.family != "inet"
        }.filter { chain in
            plan.chains.contains { own in
                guard let hook = own.hook, hook.kind == .nat else { return false }
                return hook.point == chain.point && chain.priority <= hook.priority
            }
        }
    }
}
