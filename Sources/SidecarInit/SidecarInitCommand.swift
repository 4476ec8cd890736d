import ArgumentParser
import SidecarCLI

/// `sidecar-init`: programs the nftables table that sends the pod's TCP to the proxy.
struct SidecarInitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sidecar-init",
        abstract: "Program the nftables rules that redirect a pod's TCP traffic to sidecar-proxy.",
        discussion: """
            Every capture option is also read from the environment (--exclude-outbound-ports is \
            SIDECAR_EXCLUDE_OUTBOUND_PORTS) and from the --config YAML file (excludeOutboundPorts); flags win over \
            the environment, which wins over the file. `plan` prints the effective settings and where each came from.

            Exit codes: 0 success, 1 the kernel refused or a probe failed, 2 bad input (nothing was changed), \
            3 verify: the table differs from the plan, 4 verify: the table is absent.
            """,
        version: SidecarVersion.current,
        subcommands: [
            InstallCommand.self, PlanCommand.self, VerifyCommand.self, ProbeCommand.self, UninstallCommand.self,
        ]
    )
}
