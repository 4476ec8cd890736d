import ArgumentParser
import Interception
import Netfilter

/// `sidecar-init plan`: what `install` would program, touching nothing.
struct PlanCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plan", abstract: "Print the ruleset install would program, in `nft -f` syntax.")

    @OptionGroup var capture: CaptureOptions

    func run() throws {
        let ruleset = InterceptionPlanner.ruleset(for: try capture.config())
        let text = NftTextRenderer.render(ruleset, tableComment: RulesetFingerprint.tableComment(for: ruleset))
        print(text, terminator: "")
    }
}
