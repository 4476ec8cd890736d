/// Where a base chain attaches to netfilter. Only NAT chains are needed: redirection is destination NAT.
public struct ChainHook: Sendable, Hashable {
    public enum Point: String, Sendable, Hashable {
        /// Locally generated packets: the app's outbound connections.
        case output
        /// Packets arriving from the network: connections into the pod.
        case prerouting
    }

    public var point: Point
    /// Lower runs first; nftables' `dstnat` is -100.
    public var priority: Int32

    /// The priority nftables names `dstnat`, the usual place for destination NAT.
    public static let dstnatPriority: Int32 = -100

    public init(point: Point, priority: Int32 = ChainHook.dstnatPriority) {
        self.point = point
        self.priority = priority
    }
}
