import ArgumentParser
import Interception
import NIOCore
import Policy
import SidecarCLI

/// `sidecar-init probe`: after install, before the proxy starts, show that a connection really is redirected.
struct ProbeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "probe",
        abstract: "Dial a destination the rules must capture and check it reaches the outbound port intact.",
        discussion: """
            Run after install and before the proxy starts (it listens on the outbound port itself), as any uid but \
            the proxy's. Inbound capture cannot be exercised from inside the pod and is not probed. Exit 0 when \
            every captured family was redirected with its original destination intact, 1 otherwise.
            """)

    @OptionGroup var capture: CaptureOptions
    @OptionGroup var namespace: NamespaceOption

    @Option(
        help: "How long each dial may take (e.g. 2s, 500ms).",
        transform: { text in
            do { return try DurationText.parse(text) } catch { throw ValidationError("\(error)") }
        })
    var timeout: Duration = .seconds(2)

    func run() throws {
        let config = try capture.config()
        guard timeout > .zero else { throw CommandFailure.badInput("--timeout must be longer than zero") }
        try namespace.enter()
        let outcomes: [RedirectProbe.Outcome]
        do {
            outcomes = try RedirectProbe(config: config, timeout: TimeAmount(timeout)).run()
        } catch {
            throw CommandFailure(.failure, "\(error)")
        }
        guard !outcomes.isEmpty else { throw CommandFailure(.failure, "nothing is captured: no destination to probe") }
        for outcome in outcomes {
            print("probe \(outcome.target): \(outcome.summary)")
        }
        if outcomes.contains(where: { $0.failure != nil }) {
            throw CommandFailure(.failure, "capture is not working for every family")
        }
        if outcomes.allSatisfy({ $0.skipped != nil }) {
            throw CommandFailure(.failure, "no family could be probed")
        }
    }
}
