import CNetfilter
import Interception

/// Lowers rules to the bytecode that `nft` itself generates for the same text, so that `nft list` shows our rules
/// exactly as `sidecar-init plan` prints them. One value compiles to a comparison, several to a lookup in an
/// anonymous set, as nft does. Pure: no kernel involved.
enum RuleCompiler {
    static func expressions(for rule: Rule) -> [NetfilterExpression] {
        rule.matches.flatMap(expressions(for:)) + [.counter] + expressions(for: rule.action)
    }

    static func expressions(for match: Match) -> [NetfilterExpression] {
        switch match {
        case .socketUID(let uid):
            [.meta(key: NFT_META_SKUID.rawValue, register: register1), equal(hostOrder(uid))]
        case .socketGID(let gid):
            [.meta(key: NFT_META_SKGID.rawValue, register: register1), equal(hostOrder(gid))]
        case .family(let family):
            familyCheck(family)
        case .destinationAddress(let networks, let negated):
            address(networks, offset: networks[0].family == .ipv4 ? 16 : 24, negated: negated)
        case .sourceAddress(let network):
            address([network], offset: network.family == .ipv4 ? 12 : 8, negated: false)
        case .transport(let protocols):
            [.meta(key: NFT_META_L4PROTO.rawValue, register: register1)]
                + oneOrSet(
                    protocols.map { [$0.number] }, type: AnonymousSet.KeyType.transportProtocol)
        case .destinationPort(let transport, let ports):
            destinationPort(transport, ports)
        case .outputInterface(let names):
            [.meta(key: NFT_META_OIFNAME.rawValue, register: register1)]
                + oneOrSet(names.map(interfaceKey), type: AnonymousSet.KeyType.interfaceName)
        case .inputInterface(let names):
            [.meta(key: NFT_META_IIFNAME.rawValue, register: register1)]
                + oneOrSet(names.map(interfaceKey), type: AnonymousSet.KeyType.interfaceName)
        }
    }

    static func expressions(for action: RuleAction) -> [NetfilterExpression] {
        switch action {
        case .returnFromChain:
            [.verdict(NFT_RETURN.rawValue)]
        case .redirect(let port):
            [
                .immediate(register: register1, data: networkOrder(port)),
                .redirect(portRegister: register1, flags: UInt32(NF_NAT_RANGE_PROTO_SPECIFIED)),
            ]
        case .rejectWithTCPReset:
            [.reject(type: UInt32(NFT_REJECT_TCP_RST.rawValue), code: 0)]
        }
    }

    private static func familyCheck(_ family: IPNetwork.Family) -> [NetfilterExpression] {
        [
            .meta(key: NFT_META_NFPROTO.rawValue, register: register1),
            equal([UInt8(family == .ipv4 ? NFPROTO_IPV4 : NFPROTO_IPV6)]),
        ]
    }

    /// Checks the family first (an `inet` table sees both), as nft does: one network on a byte boundary compares
    /// only the bytes its prefix covers; one that ends inside a byte compares the whole address, masked; several
    /// become a set: of addresses when all are single hosts, else of intervals.
    private static func address(_ networks: [IPNetwork], offset: UInt32, negated: Bool) -> [NetfilterExpression] {
        let family = networks[0].family
        var result = familyCheck(family)
        let addressLength = family.addressLength
        guard networks.count == 1 else {
            result.append(
                .payload(
                    base: NFT_PAYLOAD_NETWORK_HEADER.rawValue, offset: offset, length: UInt32(addressLength),
                    register: register1))
            let keyType = family == .ipv4 ? AnonymousSet.KeyType.ipv4Address : AnonymousSet.KeyType.ipv6Address
            let set =
                networks.allSatisfy(\.isHost)
                ? AnonymousSet.keys(networks.map(\.address), type: keyType)
                : AnonymousSet.intervals(networks.map { ($0.address, $0.lastAddress) }, type: keyType)
            result.append(.lookup(register: register1, set: set, inverted: negated))
            return result
        }
        let network = networks[0]
        let comparison: NetfilterExpression.ComparisonOperator = negated ? .notEqual : .equal
        if network.prefixLength % 8 == 0 {
            let byteCount = network.prefixLength / 8
            result += [
                .payload(
                    base: NFT_PAYLOAD_NETWORK_HEADER.rawValue, offset: offset, length: UInt32(byteCount),
                    register: register1),
                .compare(comparison, register: register1, data: Array(network.address.prefix(byteCount))),
            ]
        } else {
            let mask = (0..<addressLength).map { index in
                let bitsKept = min(max(network.prefixLength - index * 8, 0), 8)
                return bitsKept == 0 ? UInt8(0) : ~UInt8(0xff >> bitsKept)
            }
            result += [
                .payload(
                    base: NFT_PAYLOAD_NETWORK_HEADER.rawValue, offset: offset, length: UInt32(addressLength),
                    register: register1),
                .bitwise(register: register1, mask: mask, xor: [UInt8](repeating: 0, count: addressLength)),
                .compare(comparison, register: register1, data: network.address),
            ]
        }
        return result
    }

    /// One port compares equal, one range compares both bounds, several become a set: of ports, or of intervals
    /// when any entry is a range.
    private static func destinationPort(_ transport: TransportProtocol, _ ports: [PortRange]) -> [NetfilterExpression] {
        var result: [NetfilterExpression] = [
            .meta(key: NFT_META_L4PROTO.rawValue, register: register1), equal([transport.number]),
            .payload(base: NFT_PAYLOAD_TRANSPORT_HEADER.rawValue, offset: 2, length: 2, register: register1),
        ]
        if ports.count == 1, !ports[0].isSinglePort {
            result += [
                .compare(.greaterThanOrEqual, register: register1, data: networkOrder(ports[0].low)),
                .compare(.lessThanOrEqual, register: register1, data: networkOrder(ports[0].high)),
            ]
        } else if ports.count > 1, ports.contains(where: { !$0.isSinglePort }) {
            let set = AnonymousSet.intervals(
                ports.map { (networkOrder($0.low), networkOrder($0.high)) }, type: AnonymousSet.KeyType.port)
            result.append(.lookup(register: register1, set: set, inverted: false))
        } else {
            result += oneOrSet(ports.map { networkOrder($0.low) }, type: AnonymousSet.KeyType.port)
        }
        return result
    }

    private static func oneOrSet(_ keys: [[UInt8]], type: UInt32) -> [NetfilterExpression] {
        keys.count == 1
            ? [equal(keys[0])] : [.lookup(register: register1, set: .keys(keys, type: type), inverted: false)]
    }

    private static func equal(_ data: [UInt8]) -> NetfilterExpression {
        .compare(.equal, register: register1, data: data)
    }

    private static let register1 = NFT_REG_1.rawValue

    /// The kernel compares device names as IFNAMSIZ (16) bytes, NUL-padded.
    private static func interfaceKey(_ name: String) -> [UInt8] {
        Array(name.utf8) + [UInt8](repeating: 0, count: 16 - name.utf8.count)
    }

    /// Socket ids are compared in the host's byte order, as the kernel loads them.
    private static func hostOrder(_ value: UInt32) -> [UInt8] {
        withUnsafeBytes(of: value) { Array($0) }
    }

    /// Header fields are compared in network byte order.
    private static func networkOrder(_ port: UInt16) -> [UInt8] {
        [UInt8(port >> 8), UInt8(port & 0xff)]
    }
}
