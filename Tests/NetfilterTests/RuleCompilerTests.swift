import Interception
import Testing

@testable import Netfilter

/// The bytecode must be what `nft` itself emits for the same text (captured with `nft --debug=netlink -f`), so that
/// `nft list` prints our rules exactly as `plan` does.
@Suite struct RuleCompilerTests {
    @Test func socketUID() {
        #expect(
            RuleCompiler.expressions(for: .socketUID(1337)) == [
                .meta(key: 10, register: 1), .compare(.equal, register: 1, data: [0x39, 0x05, 0, 0]),
            ])
    }

    /// `ip daddr 127.0.0.0/8`: family check, then only the first byte, no mask.
    @Test func byteAlignedIPv4Prefix() {
        #expect(
            RuleCompiler.expressions(for: .destinationAddress([.ipv4Loopback], negated: false)) == [
                .meta(key: 15, register: 1), .compare(.equal, register: 1, data: [2]),
                .payload(base: 1, offset: 16, length: 1, register: 1), .compare(.equal, register: 1, data: [127]),
            ])
    }

    /// `ip daddr 172.16.0.0/12`: as nft 1.0.6 emits it, the whole address, masked.
    @Test func unalignedIPv4Prefix() throws {
        let network = try IPNetwork(parsing: "172.16.0.0/12")
        #expect(
            RuleCompiler.expressions(for: .destinationAddress([network], negated: false)) == [
                .meta(key: 15, register: 1), .compare(.equal, register: 1, data: [2]),
                .payload(base: 1, offset: 16, length: 4, register: 1),
                .bitwise(register: 1, mask: [0xff, 0xf0, 0, 0], xor: [0, 0, 0, 0]),
                .compare(.equal, register: 1, data: [172, 16, 0, 0]),
            ])
    }

    /// `ip daddr { 1.2.3.4, 1.2.3.5 }`: single hosts make a plain set, not merged intervals.
    @Test func hostsMakeAPlainSet() throws {
        let hosts = try ["1.2.3.4", "1.2.3.5"].map { try IPNetwork(parsing: $0) }
        guard
            case .lookup(_, let set, _) = RuleCompiler.expressions(for: .destinationAddress(hosts, negated: false)).last
        else {
            Issue.record("expected a lookup")
            return
        }
        #expect(!set.isInterval)
        #expect(set.elements.map(\.key) == [[1, 2, 3, 4], [1, 2, 3, 5]])
    }

    @Test func ipv6Host() {
        #expect(
            RuleCompiler.expressions(for: .destinationAddress([.ipv6Loopback], negated: false)) == [
                .meta(key: 15, register: 1), .compare(.equal, register: 1, data: [10]),
                .payload(base: 1, offset: 24, length: 16, register: 1),
                .compare(.equal, register: 1, data: [UInt8](repeating: 0, count: 15) + [1]),
            ])
    }

    @Test func tcpPortReturn() {
        let rule = Rule(matches: [.destinationPort(.tcp, [PortRange(15000)])], action: .returnFromChain, comment: "x")
        #expect(
            RuleCompiler.expressions(for: rule) == [
                .meta(key: 16, register: 1), .compare(.equal, register: 1, data: [6]),
                .payload(base: 2, offset: 2, length: 2, register: 1),
                .compare(.equal, register: 1, data: [0x3a, 0x98]),
                .counter, .verdict(-5),
            ])
    }

    /// `redirect to :15001` loads the port, then redirects with NF_NAT_RANGE_PROTO_SPECIFIED.
    @Test func redirect() {
        let rule = Rule(matches: [.transport([.tcp])], action: .redirect(port: 15001), comment: "x")
        #expect(
            RuleCompiler.expressions(for: rule) == [
                .meta(key: 16, register: 1), .compare(.equal, register: 1, data: [6]), .counter,
                .immediate(register: 1, data: [0x3a, 0x99]), .redirect(portRegister: 1, flags: 2),
            ])
    }

    private static let tcpDestinationPort: [NetfilterExpression] = [
        .meta(key: 16, register: 1), .compare(.equal, register: 1, data: [6]),
        .payload(base: 2, offset: 2, length: 2, register: 1),
    ]

    private static func element(_ key: [UInt8], end: Bool = false) -> AnonymousSet.Element {
        AnonymousSet.Element(key: key, isIntervalEnd: end)
    }

    /// `tcp dport 7000-7002`: both bounds compared, no set.
    @Test func oneRangeComparesBothBounds() {
        #expect(
            RuleCompiler.expressions(for: .destinationPort(.tcp, [PortRange(low: 7000, high: 7002)]))
                == Self.tcpDestinationPort + [
                    .compare(.greaterThanOrEqual, register: 1, data: [0x1b, 0x58]),
                    .compare(.lessThanOrEqual, register: 1, data: [0x1b, 0x5a]),
                ])
    }

    /// `tcp dport { 22, 23, 65535 }`: single ports make a plain (hash) set.
    @Test func singlePortsMakeAPlainSet() {
        let set = AnonymousSet(
            keyType: 13, keyLength: 2, isInterval: false,
            elements: [Self.element([0, 22]), Self.element([0, 23]), Self.element([0xff, 0xff])])
        #expect(
            RuleCompiler.expressions(for: .destinationPort(.tcp, [PortRange(22), PortRange(23), PortRange(65535)]))
                == Self.tcpDestinationPort + [.lookup(register: 1, set: set, inverted: false)])
    }

    /// `tcp dport { 22, 7000-7002 }`: as `nft --debug=netlink` shows it, a leading end at zero, then each range's
    /// start and the key past its end.
    @Test func aRangeMakesAnIntervalSetEncodedAsNftDoes() {
        let set = AnonymousSet(
            keyType: 13, keyLength: 2, isInterval: true,
            elements: [
                Self.element([0, 0], end: true), Self.element([0, 22]), Self.element([0, 23], end: true),
                Self.element([0x1b, 0x58]), Self.element([0x1b, 0x5b], end: true),
            ])
        #expect(
            RuleCompiler.expressions(
                for: .destinationPort(.tcp, [PortRange(22), PortRange(low: 7000, high: 7002)]))
                == Self.tcpDestinationPort + [.lookup(register: 1, set: set, inverted: false)])
    }

    /// `ip daddr != { 10.0.0.0/8, 11.0.0.0/8, 192.168.1.5 }`: adjacent networks merge into one interval.
    @Test func networksMakeAnIntervalSetWithAdjacentOnesMerged() throws {
        let networks = try ["10.0.0.0/8", "11.0.0.0/8", "192.168.1.5"].map { try IPNetwork(parsing: $0) }
        let set = AnonymousSet(
            keyType: 7, keyLength: 4, isInterval: true,
            elements: [
                Self.element([0, 0, 0, 0], end: true), Self.element([10, 0, 0, 0]),
                Self.element([12, 0, 0, 0], end: true), Self.element([192, 168, 1, 5]),
                Self.element([192, 168, 1, 6], end: true),
            ])
        #expect(
            RuleCompiler.expressions(for: .destinationAddress(networks, negated: true)) == [
                .meta(key: 15, register: 1), .compare(.equal, register: 1, data: [2]),
                .payload(base: 1, offset: 16, length: 4, register: 1), .lookup(register: 1, set: set, inverted: true),
            ])
    }

    /// A range reaching the largest key has no end element: the key past it does not exist.
    @Test func aRangeToTheLastKeyHasNoEnd() {
        let set = AnonymousSet.intervals([([0, 1], [0, 9]), ([0xff, 0x00], [0xff, 0xff])], type: 13)
        #expect(
            set.elements == [
                Self.element([0, 0], end: true), Self.element([0, 1]), Self.element([0, 10], end: true),
                Self.element([0xff, 0]),
            ])
    }

    /// `oifname { "eth1", "vx0" }`: names as 16 NUL-padded bytes.
    @Test func interfaceNamesArePaddedToIfnamsiz() {
        let expressions = RuleCompiler.expressions(for: .outputInterface(["eth1", "vx0"]))
        guard case .lookup(_, let set, _) = expressions.last else {
            Issue.record("expected a lookup: \(expressions)")
            return
        }
        #expect(set.keyType == 41 && set.keyLength == 16 && !set.isInterval)
        #expect(set.elements.map(\.key).contains(Array("eth1".utf8) + [UInt8](repeating: 0, count: 12)))
    }
}
