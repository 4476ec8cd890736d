import ArgumentParser
import SidecarCLI

/// `sidecar-proxy`: the sidecar that relays the pod's redirected connections.
struct SidecarProxyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sidecar-proxy",
        abstract: "Relay a pod's redirected TCP connections to their original destinations.",
        discussion: "Exit codes: 0 success, 1 runtime failure, 2 bad input.",
        version: SidecarVersion.current,
        subcommands: [RunCommand.self, CheckCommand.self, WaitReadyCommand.self]
    )
}
