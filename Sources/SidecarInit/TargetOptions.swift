import ArgumentParser
import SidecarCLI

/// Which table, in which network namespace.
struct TargetOptions: ParsableArguments {
    @Option(help: "Name of the nftables table (family inet) the project owns.")
    var table = "sidecar"

    @Option(help: "Enter this network namespace first (e.g. /proc/PID/ns/net or /run/netns/NAME).")
    var netns: String?

    func enterNamespace() throws(CommandFailure) {
        if let netns { try NetworkNamespace.enter(path: netns) }
    }
}
