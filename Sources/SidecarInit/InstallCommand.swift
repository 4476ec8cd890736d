import ArgumentParser
import Interception
import Netfilter
import SidecarCLI

/// `sidecar-init install`: the init container's command.
struct InstallCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "install", abstract: "Install (or replace) the capture rules in one atomic transaction.")

    @OptionGroup var capture: CaptureOptions
    @OptionGroup var namespace: NamespaceOption

    func run() throws {
        let config = try capture.config()
        let ruleset = InterceptionPlanner.ruleset(for: config)
        try namespace.enter()
        let connection = try NftablesConnection()
        try connection.install(ruleset)
        // The rules are in force now: a failure to look for conflicts must not report the install as failed.
        do {
            warn(try ConflictReport.findings(for: ruleset, connection: connection))
        } catch {
            warn(["could not check for conflicting rules: \(error)"])
        }
        let rules = ruleset.chains.reduce(0) { $0 + $1.rules.count }
        print("sidecar-init: installed table inet \(config.table) (\(ruleset.chains.count) chains, \(rules) rules)")
    }
}
