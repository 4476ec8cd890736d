import ArgumentParser
import SidecarCLI

/// `sidecar-inject`: adds the sidecar to Kubernetes manifests, offline (`-f`) or as a mutating admission webhook.
struct SidecarInjectCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sidecar-inject",
        abstract: "Add swift-sidecar to every pod template of Kubernetes manifests, or serve as an admission webhook.",
        discussion: "Exit codes: 0 done, 1 runtime failure, 2 bad input (nothing was written).",
        version: SidecarVersion.current,
        subcommands: [InjectCommand.self, ServeCommand.self],
        defaultSubcommand: InjectCommand.self)
}
