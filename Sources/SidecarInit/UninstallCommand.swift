import ArgumentParser
import Netfilter
import SidecarCLI

/// `sidecar-init uninstall`: removes the project's table and nothing else.
struct UninstallCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "uninstall", abstract: "Delete the project's table; other tables are left alone.")

    @OptionGroup var target: TargetOptions

    func run() throws {
        try target.enterNamespace()
        let removed = try NftablesConnection().removeTable(named: target.table)
        print(
            "sidecar-init: "
                + (removed ? "removed table inet \(target.table)" : "table inet \(target.table) was not installed"))
    }
}
