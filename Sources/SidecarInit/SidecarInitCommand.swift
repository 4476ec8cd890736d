import ArgumentParser

/// `sidecar-init`: programs the nftables table that sends the pod's TCP to the proxy.
struct SidecarInitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sidecar-init",
        abstract: "Program the nftables rules that redirect a pod's TCP traffic to sidecar-proxy.",
        discussion:
            "Exit codes: 0 success, 1 the kernel refused, 2 bad input (nothing was changed), 3 verify: drift, 4 verify: absent.",
        subcommands: [
            InstallCommand.self, PlanCommand.self, VerifyCommand.self, ProbeCommand.self, UninstallCommand.self,
        ]
    )
}
