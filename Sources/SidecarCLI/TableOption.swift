import ArgumentParser

/// `--table`: the nftables table (family inet) the project owns.
public struct TableOption: ParsableArguments {
    @Option(help: "Name of the nftables table (family inet) the project owns.")
    public var table = "sidecar"

    public init() {}
}
