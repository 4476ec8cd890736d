#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// An IPv4 or IPv6 network in CIDR form, held as network-order bytes.
public struct IPNetwork: Sendable, Hashable, CustomStringConvertible {
    public enum Family: Sendable, Hashable {
        case ipv4
        case ipv6

        /// Address length in bytes.
        public var addressLength: Int { self == .ipv4 ? 4 : 16 }
    }

    public let family: Family
    /// The network address, `family.addressLength` bytes in network order, host bits zero.
    public let address: [UInt8]
    public let prefixLength: Int

    /// Why a CIDR string was rejected, worded for an operator.
    public enum ParseError: Error, Hashable, CustomStringConvertible {
        case notAnAddress(String)
        case badPrefixLength(String)
        /// The address has bits set past the prefix; `suggestion` is the network the operator probably meant.
        case hostBitsSet(String, suggestion: String)
        /// An IPv4-mapped IPv6 address (`::ffff:a.b.c.d`): packets never carry one, so it would match nothing.
        case ipv4Mapped(String, suggestion: String)

        public var description: String {
            switch self {
            case .notAnAddress(let text): "'\(text)' is not an IPv4 or IPv6 address"
            case .badPrefixLength(let text): "'\(text)' has an invalid prefix length"
            case .hostBitsSet(let text, let suggestion): "'\(text)' has host bits set; did you mean \(suggestion)?"
            case .ipv4Mapped(let text, let suggestion):
                "'\(text)' is an IPv4-mapped address, which no packet carries; write it as IPv4: \(suggestion)"
            }
        }
    }

    /// Parses `a.b.c.d/n`, `x::y/n`, or a bare address (a single host).
    public init(parsing text: String) throws(ParseError) {
        let parts = text.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        guard let (family, bytes) = Self.parseAddress(String(parts[0])) else { throw .notAnAddress(text) }
        let maxPrefix = family.addressLength * 8
        var prefix = maxPrefix
        if parts.count == 2 {
            guard parts[1].allSatisfy({ ("0"..."9").contains($0) }), let parsed = Int(parts[1]), parsed <= maxPrefix
            else {
                throw .badPrefixLength(text)
            }
            prefix = parsed
        }
        if family == .ipv6, bytes.prefix(12) == Self.ipv4MappedPrefix[...], prefix >= 96 {
            let ipv4 = IPNetwork(
                family: .ipv4, address: Self.mask(Array(bytes.suffix(4)), prefixLength: prefix - 96),
                prefixLength: prefix - 96)
            throw .ipv4Mapped(text, suggestion: ipv4.description)
        }
        let masked = Self.mask(bytes, prefixLength: prefix)
        guard masked == bytes else {
            let suggestion = IPNetwork(family: family, address: masked, prefixLength: prefix)
            throw .hostBitsSet(text, suggestion: suggestion.description)
        }
        self.init(family: family, address: bytes, prefixLength: prefix)
    }

    /// A network from bytes whose host bits are already zero.
    public init(family: Family, address: [UInt8], prefixLength: Int) {
        precondition(address.count == family.addressLength && (0...address.count * 8).contains(prefixLength))
        self.family = family
        self.address = address
        self.prefixLength = prefixLength
    }

    /// `::ffff:0:0/96`.
    private static let ipv4MappedPrefix: [UInt8] = [UInt8](repeating: 0, count: 10) + [0xff, 0xff]

    public static let ipv4Loopback = IPNetwork(family: .ipv4, address: [127, 0, 0, 0], prefixLength: 8)
    public static let ipv6Loopback = IPNetwork(
        family: .ipv6, address: [UInt8](repeating: 0, count: 15) + [1], prefixLength: 128)

    /// The network's last address (all host bits set), in network order.
    public var lastAddress: [UInt8] {
        address.enumerated().map { index, byte in
            let bitsKept = min(max(prefixLength - index * 8, 0), 8)
            return byte | UInt8(0xff >> bitsKept)
        }
    }

    /// True when `other` lies wholly inside this network.
    public func contains(_ other: IPNetwork) -> Bool {
        other.family == family && other.prefixLength >= prefixLength
            && Self.mask(other.address, prefixLength: prefixLength) == address
    }

    /// True when `address` (network-order bytes of this family) lies in the network. Compares in place, without
    /// allocating: it runs for every connection a policy evaluates.
    public func contains(address other: [UInt8]) -> Bool {
        guard other.count == address.count else { return false }
        var remaining = prefixLength
        for index in address.indices where remaining > 0 {
            let bits = min(remaining, 8)
            let mask = ~UInt8(0xff >> bits)
            if other[index] & mask != address[index] & mask { return false }
            remaining -= bits
        }
        return true
    }

    /// Sorted, of one family each, with duplicates and networks inside another dropped: a list written two ways
    /// plans the same rules.
    public static func normalized(_ networks: [IPNetwork]) -> [IPNetwork] {
        let unique = Array(Set(networks))
        return unique.filter { network in !unique.contains { $0 != network && $0.contains(network) } }
            .sorted {
                ($0.address.lexicographicallyPrecedes($1.address))
                    || ($0.address == $1.address && $0.prefixLength < $1.prefixLength)
            }
    }

    /// True when the network is a single address.
    public var isHost: Bool { prefixLength == family.addressLength * 8 }

    /// The address in its conventional text form (`::1`, not `0:0:0:0:0:0:0:1`), as nftables prints it.
    public var addressText: String {
        var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        let af = family == .ipv4 ? AF_INET : AF_INET6
        _ = address.withUnsafeBytes { inet_ntop(af, $0.baseAddress, &text, socklen_t(text.count)) }
        return String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Network-order address bytes (4 or 16) in their conventional text form; `unknown` for any other length.
    public static func text(ofAddress address: [UInt8]) -> String {
        guard address.count == 4 || address.count == 16 else { return "unknown" }
        return IPNetwork(family: address.count == 4 ? .ipv4 : .ipv6, address: address, prefixLength: address.count * 8)
            .addressText
    }

    /// `addr/len`, or the bare address for a single host, as nftables prints it.
    public var description: String { isHost ? addressText : "\(addressText)/\(prefixLength)" }

    private static func parseAddress(_ text: String) -> (Family, [UInt8])? {
        var bytes = [UInt8](repeating: 0, count: 16)
        if inet_pton(AF_INET, text, &bytes) == 1 { return (.ipv4, Array(bytes.prefix(4))) }
        if inet_pton(AF_INET6, text, &bytes) == 1 { return (.ipv6, bytes) }
        return nil
    }

    private static func mask(_ bytes: [UInt8], prefixLength: Int) -> [UInt8] {
        bytes.enumerated().map { index, byte in
            let bitsKept = min(max(prefixLength - index * 8, 0), 8)
            return bitsKept == 0 ? 0 : byte & ~UInt8(0xff >> bitsKept)
        }
    }
}
