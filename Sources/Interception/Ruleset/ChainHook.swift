/// Where a base chain attaches to netfilter: NAT chains redirect (destination NAT); one filter chain guards the
/// proxy's admin port.
public struct ChainHook: Sendable, Hashable {
    public enum Kind: String, Sendable, Hashable {
        case nat
        case filter
    }

    public enum Point: String, Sendable, Hashable {
        /// Locally generated packets: the app's outbound connections.
        case output
        /// Packets arriving from the network: connections into the pod.
        case prerouting
    }

    public var kind: Kind
    public var point: Point
    /// Lower runs first; nftables' `dstnat` is -100.
    public var priority: Int32

    /// The priority nftables names `dstnat`, the usual place for destination NAT.
    public static let dstnatPriority: Int32 = -100

    /// The priority nftables names `filter`.
    public static let filterPriority: Int32 = 0

    public init(kind: Kind = .nat, point: Point, priority: Int32 = ChainHook.dstnatPriority) {
        self.kind = kind
        self.point = point
        self.priority = priority
    }
}
