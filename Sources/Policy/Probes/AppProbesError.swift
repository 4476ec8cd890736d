/// Why `SIDECAR_APP_PROBES` cannot be used: every problem found, each naming its container and probe.
public struct AppProbesError: Error, CustomStringConvertible, Sendable {
    public let problems: [String]

    public var description: String {
        "\(AppProbes.environmentVariable): " + problems.joined(separator: "; ")
    }
}
