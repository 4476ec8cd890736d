import ArgumentParser
import Interception
import Netfilter
import SidecarCLI

/// `sidecar-init plan`: what `install` would program, touching nothing.
struct PlanCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plan",
        abstract: "Print the ruleset install would program, in `nft -f` syntax, under the effective settings.")

    @OptionGroup var capture: CaptureOptions

    func run() throws {
        let (config, sources) = try capture.resolve()
        let ruleset = InterceptionPlanner.ruleset(for: config)
        var header = ["# sidecar-init plan: effective settings (flags > environment > config file > defaults)"]
        header += CaptureSetting.allCases.map { setting in
            let value = setting.text(of: config)
            return
                "#   \(setting.key): \(value.isEmpty ? "(none)" : value) (\(sources[setting]?.description ?? "default"))"
        }
        print(header.joined(separator: "\n"))
        print(
            NftTextRenderer.render(ruleset, tableComment: RulesetFingerprint.tableComment(for: ruleset)), terminator: ""
        )
    }
}
