import ArgumentParser

/// `--netns`: work in another network namespace, such as a pod's, from the host.
public struct NamespaceOption: ParsableArguments {
    @Option(help: "Enter this network namespace first (e.g. /proc/PID/ns/net or /run/netns/NAME).")
    public var netns: String?

    public init() {}

    /// Enters the namespace, if one was given. Call it before any thread or socket is created.
    public func enter() throws(CommandFailure) {
        if let netns { try NetworkNamespace.enter(path: netns) }
    }
}
