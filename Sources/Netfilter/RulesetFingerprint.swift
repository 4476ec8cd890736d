import Interception

/// A short digest of a ruleset's hooks, bytecode and comments: `install` records the plan's in the table's comment,
/// so that `sidecar-status`, which does not know the settings `install` was given, can still tell whether the table
/// is exactly what was planned. Counters and handles are not part of it.
public enum RulesetFingerprint {
    /// What the table's comment says: `sidecar-init plan fnv1a64:0123456789abcdef`.
    public static func tableComment(for ruleset: Ruleset) -> String {
        commentPrefix + of(InstalledTable(planned: ruleset))
    }

    static let commentPrefix = "sidecar-init plan "

    /// FNV-1a (64 bits) over a canonical rendering: enough to notice any edit, not meant to resist forgery, which
    /// needs CAP_NET_ADMIN in the pod anyway.
    static func of(_ table: InstalledTable) -> String {
        var canonical = ""
        for chain in table.chains {
            canonical += "chain \(chain.name)\n"
            if let hook = chain.hook {
                canonical += "hook \(hook.type) \(hook.number) \(hook.priority) \(hook.acceptsByDefault)\n"
            }
            for rule in chain.rules {
                canonical += "rule \(rule.comment ?? "")\n"
                for expression in rule.expressions { canonical += "  \(expression)\n" }
            }
        }
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in canonical.utf8 {
            hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01b3
        }
        let digits = String(hash, radix: 16)
        return "fnv1a64:" + String(repeating: "0", count: 16 - digits.count) + digits
    }
}
