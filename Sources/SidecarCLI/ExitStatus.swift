/// The exit codes every program of the project shares (DESIGN.md).
public enum ExitStatus: Int32, Sendable {
    case success = 0
    /// The kernel refused, a peer was unreachable, or a component is degraded.
    case failure = 1
    /// The input was rejected before anything was changed.
    case badInput = 2
    /// `verify`: the rules are present but differ from the plan.
    case drift = 3
    /// `verify`: the table is absent.
    case absent = 4
}
