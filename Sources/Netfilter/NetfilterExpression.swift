/// One nftables bytecode instruction, as the kernel stores it and as `nft --debug=netlink` prints it.
///
/// Rules are lowered to these before they become libnftnl objects, and rules read back from the kernel are decoded
/// into them, so that a plan and an installed table compare as plain values.
enum NetfilterExpression: Hashable, Sendable {
    /// Loads a packet or socket property (`NFT_META_*`) into a register.
    case meta(key: UInt32, register: UInt32)
    /// Compares a register with bytes, in the byte order the kernel keeps them.
    case compare(ComparisonOperator, register: UInt32, data: [UInt8])
    /// Matches when the register's value is (or, inverted, is not) in the set.
    case lookup(register: UInt32, set: AnonymousSet, inverted: Bool)
    /// Loads `length` bytes at `offset` from a header (`NFT_PAYLOAD_*_HEADER`) into a register.
    case payload(base: UInt32, offset: UInt32, length: UInt32, register: UInt32)
    /// `register = (register & mask) ^ xor`, used for prefixes that do not end on a byte boundary.
    case bitwise(register: UInt32, mask: [UInt8], xor: [UInt8])
    /// Counts packets and bytes; the values are read back separately and do not take part in comparisons.
    case counter
    /// Ends rule evaluation with a verdict (`NFT_RETURN`, ...).
    case verdict(Int32)
    /// Loads constant bytes into a register.
    case immediate(register: UInt32, data: [UInt8])
    /// Redirects to the local host, the port taken from a register.
    case redirect(portRegister: UInt32, flags: UInt32)
    /// Refuses the packet's connection (`NFT_REJECT_*`: a TCP reset, or an ICMP code).
    case reject(type: UInt32, code: UInt8)
    /// The comparisons nft emits for the project's rules (`NFT_CMP_*`).
    enum ComparisonOperator: UInt32, Hashable, Sendable {
        case equal = 0
        case notEqual = 1
        case lessThanOrEqual = 3
        case greaterThanOrEqual = 5

        /// As `nft --debug=netlink` writes it.
        var mnemonic: String {
            switch self {
            case .equal: "eq"
            case .notEqual: "neq"
            case .lessThanOrEqual: "lte"
            case .greaterThanOrEqual: "gte"
            }
        }
    }

    /// An expression this project never programs, kept by name so a drift report can show it.
    case unknown(name: String)
}
