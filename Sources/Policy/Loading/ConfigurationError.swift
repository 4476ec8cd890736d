/// Every problem found in a configuration file, each with the key path it concerns
/// (`policy.outbound.rules[2].cidrs[0]: '10.1.2.3/8' has host bits set; ...`).
public struct ConfigurationError: Error, CustomStringConvertible, Sendable {
    public let problems: [String]

    public var description: String { problems.joined(separator: "\n") }
}
