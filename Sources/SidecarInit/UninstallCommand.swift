import ArgumentParser
import Interception
import Netfilter
import SidecarCLI

/// `sidecar-init uninstall`: removes the project's table and nothing else.
struct UninstallCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "uninstall", abstract: "Delete the project's table; other tables are left alone.")

    @OptionGroup var table: TableOption
    @OptionGroup var namespace: NamespaceOption

    func run() throws {
        if let problem = InterceptionConfig.tableNameProblem(table.name) { throw CommandFailure.badInput(problem) }
        try namespace.enter()
        let removed = try NftablesConnection().removeTable(named: table.name)
        print(
            "sidecar-init: "
                + (removed ? "removed table inet \(table.name)" : "table inet \(table.name) was not installed"))
    }
}
