import CNetfilter
import Interception

/// Lowers rules to the bytecode that `nft` itself generates for the same text, so that `nft list` shows our rules
/// exactly as `sidecar-init plan` prints them. Pure: no kernel involved.
enum RuleCompiler {
    static func expressions(for rule: Rule) -> [NetfilterExpression] {
        rule.matches.flatMap(expressions(for:)) + [.counter] + expressions(for: rule.action)
    }

    static func expressions(for match: Match) -> [NetfilterExpression] {
        switch match {
        case .socketUID(let uid):
            [
                .meta(key: NFT_META_SKUID.rawValue, register: register1),
                .compareEqual(register: register1, data: hostOrder(uid)),
            ]
        case .socketGID(let gid):
            [
                .meta(key: NFT_META_SKGID.rawValue, register: register1),
                .compareEqual(register: register1, data: hostOrder(gid)),
            ]
        case .destination(let network):
            destination(network)
        case .tcpDestinationPort(let port):
            tcpProtocol + [
                .payload(base: NFT_PAYLOAD_TRANSPORT_HEADER.rawValue, offset: 2, length: 2, register: register1),
                .compareEqual(register: register1, data: networkOrder(port)),
            ]
        case .tcp:
            tcpProtocol
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
        }
    }

    /// Matches the address family first (an `inet` table sees both), then only the bytes the prefix covers, masking
    /// the last one when the prefix ends inside it: the shortest form, and the one `nft` emits.
    private static func destination(_ network: IPNetwork) -> [NetfilterExpression] {
        let (nfproto, addressOffset): (Int, UInt32) = network.family == .ipv4 ? (NFPROTO_IPV4, 16) : (NFPROTO_IPV6, 24)
        var result: [NetfilterExpression] = [
            .meta(key: NFT_META_NFPROTO.rawValue, register: register1),
            .compareEqual(register: register1, data: [UInt8(nfproto)]),
        ]
        let byteCount = (network.prefixLength + 7) / 8
        guard byteCount > 0 else { return result }
        let bytes = Array(network.address.prefix(byteCount))
        result.append(
            .payload(
                base: NFT_PAYLOAD_NETWORK_HEADER.rawValue, offset: addressOffset, length: UInt32(byteCount),
                register: register1))
        let trailingBits = network.prefixLength % 8
        if trailingBits != 0 {
            var mask = [UInt8](repeating: 0xff, count: byteCount)
            mask[byteCount - 1] = ~UInt8(0xff >> trailingBits)
            result.append(.bitwise(register: register1, mask: mask, xor: [UInt8](repeating: 0, count: byteCount)))
        }
        result.append(.compareEqual(register: register1, data: bytes))
        return result
    }

    private static let register1 = NFT_REG_1.rawValue

    private static let tcpProtocol: [NetfilterExpression] = [
        .meta(key: NFT_META_L4PROTO.rawValue, register: register1),
        .compareEqual(register: register1, data: [UInt8(IPPROTO_TCP)]),
    ]

    /// Socket ids are compared in the host's byte order, as the kernel loads them.
    private static func hostOrder(_ value: UInt32) -> [UInt8] {
        withUnsafeBytes(of: value) { Array($0) }
    }

    /// Header fields are compared in network byte order.
    private static func networkOrder(_ port: UInt16) -> [UInt8] {
        [UInt8(port >> 8), UInt8(port & 0xff)]
    }
}
