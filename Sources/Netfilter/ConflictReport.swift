import Foundation
import Interception

/// What else in the namespace could rewrite connections at the hooks capture uses: legacy iptables NAT, and NAT
/// chains of other nftables tables that run before or alongside ours. Warnings only: they may be deliberate.
public enum ConflictReport {
    /// The legacy iptables table lists (`iptables-legacy`, `ip6tables-legacy`) of the current namespace.
    static let legacyTableLists = ["/proc/net/ip_tables_names", "/proc/net/ip6_tables_names"]

    /// Each finding in a sentence. `plan` gives our table's name and the hooks and priorities its chains use.
    public static func findings(for plan: Ruleset, connection: NftablesConnection) throws -> [String] {
        var findings: [String] = []
        for path in legacyTableLists {
            let tables = (try? String(contentsOfFile: path, encoding: .utf8))?.split(separator: "\n") ?? []
            if tables.contains("nat") {
                findings.append(
                    "legacy iptables has a nat table here (\(path)); its rules run at the same hooks as ours "
                        + "(see iptables-legacy -t nat -S)")
            }
        }
        findings += HookedChain.conflicts(in: try connection.natHooks(), with: plan).map {
            "\($0) runs before or alongside ours and can rewrite a connection before capture sees it"
        }
        return findings
    }
}
