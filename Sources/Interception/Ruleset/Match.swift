/// A condition on a packet or its socket.
public enum Match: Sendable, Hashable {
    /// The sending socket belongs to this uid (output hook only).
    case socketUID(UInt32)
    /// The sending socket belongs to this gid (output hook only).
    case socketGID(UInt32)
    /// The destination address lies in this network; also restricts the rule to that address family.
    case destination(IPNetwork)
    /// A TCP segment to this port.
    case tcpDestinationPort(UInt16)
    /// Any TCP segment, of either address family.
    case tcp
}
