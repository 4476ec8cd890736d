import ArgumentParser
import Interception
import Netfilter
import SidecarCLI

/// `sidecar-init verify`: does the kernel hold exactly what `plan` prints for these settings?
struct VerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Compare the installed table with the plan.",
        discussion: "Exit codes: 0 match, 3 the table differs from the plan (each difference printed), 4 absent.")

    @OptionGroup var capture: CaptureOptions
    @OptionGroup var namespace: NamespaceOption

    func run() throws {
        let config = try capture.config()
        let plan = InterceptionPlanner.ruleset(for: config)
        try namespace.enter()
        let connection = try NftablesConnection()
        warn(try ConflictReport.findings(for: plan, connection: connection))
        guard let installed = try connection.table(named: config.table) else {
            throw CommandFailure(.absent, "table inet \(config.table) is not installed")
        }
        let drift = installed.drift(from: plan)
        guard drift.isEmpty else {
            for difference in drift { print(difference) }
            throw CommandFailure(
                .drift, "table inet \(config.table) differs from the plan (\(drift.count) differences)")
        }
        print("sidecar-init: table inet \(config.table) matches the plan")
    }
}
