/// A rule of an installed table, as the kernel reported it.
public struct InstalledRule: Sendable, Hashable {
    /// The kernel's handle, which `nft delete rule ... handle N` takes.
    public var handle: UInt64
    public var comment: String?
    public var packets: UInt64
    public var bytes: UInt64
    var expressions: [NetfilterExpression]
}
