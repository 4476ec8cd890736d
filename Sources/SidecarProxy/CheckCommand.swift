import ArgumentParser
import Identity
import Policy
import SidecarCLI

/// `sidecar-proxy check`: validate a configuration file without running anything.
struct CheckCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract:
            "Validate a configuration file and the identity it names: exit 0 with a summary, or 2 with every problem."
    )

    @Option(help: "The configuration file to check.")
    var config: String

    func run() async throws {
        let configuration = try ConfigurationFile.load(path: config)
        var identity: WorkloadIdentity?
        if let source = configuration.identity { identity = try await IdentityFiles.load(source).identity }
        let listeners = configuration.listeners
        print("\(config): valid")
        print(
            "  listeners: outbound \(listeners.outbound), inbound \(listeners.inbound), admin \(listeners.admin), telemetry \(listeners.telemetry)"
        )
        let timeouts = configuration.timeouts
        print(
            "  timeouts: connect \(timeouts.connect), idle \(timeouts.idle), detect \(timeouts.detect), drain \(timeouts.drain), "
                + "request \(timeouts.request.map { "\($0)" } ?? "none")"
        )
        print("  limits: \(configuration.limits.count)")
        if let identity {
            print("  identity: \(identity.id), valid until \(identity.notValidAfter.formatted(.iso8601))")
        }
        for direction in [TrafficDirection.outbound, .inbound] {
            let policy = configuration.policy(for: direction)
            print("  policy \(direction): default \(policy.defaultAction), \(policy.rules.count) rules")
        }
    }
}
