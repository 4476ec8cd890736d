/// One nftables table of the `inet` family with its chains: the unit that `sidecar-init` installs atomically.
public struct Ruleset: Sendable, Hashable {
    public var table: String
    public var chains: [Chain]

    public init(table: String, chains: [Chain]) {
        self.table = table
        self.chains = chains
    }
}
