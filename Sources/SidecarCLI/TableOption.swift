import ArgumentParser

#if canImport(Glibc)
    import Glibc
#endif

/// `--table`: the nftables table (family inet) the project owns; `SIDECAR_TABLE` when the flag is absent, as for
/// `sidecar-init install`.
public struct TableOption: ParsableArguments {
    @Option(
        name: .customLong("table"),
        help: "Name of the nftables table (family inet) the project owns. (default: sidecar)")
    var flag: String?

    public init() {}

    public var name: String {
        flag ?? getenv("SIDECAR_TABLE").map { String(cString: $0) } ?? "sidecar"
    }
}
