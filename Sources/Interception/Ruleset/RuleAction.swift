/// What a rule does with a packet it matched.
public enum RuleAction: Sendable, Hashable {
    /// Leave the chain: the connection is not captured.
    case returnFromChain
    /// Destination NAT to this port on the local host (127.0.0.1 / ::1 for output, the inbound interface's address
    /// for prerouting); the original destination stays readable with `SO_ORIGINAL_DST`.
    case redirect(port: UInt16)
    /// Refuse the connection with a TCP reset (a filter chain's verdict).
    case rejectWithTCPReset
}
