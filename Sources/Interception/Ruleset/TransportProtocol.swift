/// The transport protocols the rules name.
public enum TransportProtocol: String, Sendable, Hashable, CaseIterable {
    case tcp
    case udp

    /// The IP protocol number (`IPPROTO_*`).
    public var number: UInt8 {
        switch self {
        case .tcp: 6
        case .udp: 17
        }
    }
}
