import ArgumentParser
import SidecarCLI

/// `sidecar-status`: the state of interception and of the proxy, and why a connection would be treated as it is.
struct SidecarStatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sidecar-status",
        abstract: "Show whether interception is installed and the proxy ready, or explain one connection.",
        discussion: "Exit codes: 0 healthy (or explained), 1 degraded (the output says which part), 2 bad usage.",
        version: SidecarVersion.current,
        subcommands: [ShowCommand.self, ExplainCommand.self],
        defaultSubcommand: ShowCommand.self)
}
