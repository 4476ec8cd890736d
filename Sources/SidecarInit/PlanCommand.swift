import ArgumentParser
import Interception

/// `sidecar-init plan`: what `install` would program, touching nothing.
struct PlanCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plan", abstract: "Print the ruleset install would program, in `nft -f` syntax.")

    @OptionGroup var capture: CaptureOptions

    func run() throws {
        print(NftTextRenderer.render(InterceptionPlanner.ruleset(for: try capture.config())), terminator: "")
    }
}
