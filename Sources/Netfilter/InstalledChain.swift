import Interception

/// A chain of an installed table, as the kernel reported it.
public struct InstalledChain: Sendable, Hashable {
    /// A base chain's attachment, in the kernel's terms.
    public struct Hook: Sendable, Hashable {
        public var type: String
        /// `NF_INET_*` hook number.
        public var number: UInt32
        public var priority: Int32
        public var acceptsByDefault: Bool
    }

    public var name: String
    public var hook: Hook?
    public var rules: [InstalledRule]

    /// The hook the plan asks for, in the same terms, to compare with what is installed.
    static func expectedHook(_ hook: ChainHook?) -> Hook? {
        hook.map {
            Hook(
                type: $0.kind.rawValue, number: NftnlChain.hookNumber($0.point), priority: $0.priority,
                acceptsByDefault: true)
        }
    }
}

extension InstalledChain.Hook {
    /// The hook's name as nftables writes it, when it is one the project uses.
    public var pointName: String? {
        [ChainHook.Point.output, .prerouting].first { NftnlChain.hookNumber($0) == number }?.rawValue
    }
}
