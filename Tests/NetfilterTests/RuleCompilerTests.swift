import Interception
import Testing

@testable import Netfilter

/// The bytecode must be what `nft` itself emits for the same text (captured with `nft --debug=netlink -f`), so that
/// `nft list` prints our rules exactly as `plan` does.
@Suite struct RuleCompilerTests {
    @Test func socketUID() {
        #expect(
            RuleCompiler.expressions(for: .socketUID(1337)) == [
                .meta(key: 10, register: 1), .compareEqual(register: 1, data: [0x39, 0x05, 0, 0]),
            ])
    }

    /// `ip daddr 127.0.0.0/8`: family check, then only the first byte, no mask.
    @Test func byteAlignedIPv4Prefix() {
        #expect(
            RuleCompiler.expressions(for: .destination(.ipv4Loopback)) == [
                .meta(key: 15, register: 1), .compareEqual(register: 1, data: [2]),
                .payload(base: 1, offset: 16, length: 1, register: 1), .compareEqual(register: 1, data: [127]),
            ])
    }

    /// `ip daddr 172.16.0.0/12`: two bytes, the second masked to its high nibble.
    @Test func unalignedIPv4Prefix() throws {
        let network = try IPNetwork(parsing: "172.16.0.0/12")
        #expect(
            RuleCompiler.expressions(for: .destination(network)) == [
                .meta(key: 15, register: 1), .compareEqual(register: 1, data: [2]),
                .payload(base: 1, offset: 16, length: 2, register: 1),
                .bitwise(register: 1, mask: [0xff, 0xf0], xor: [0, 0]),
                .compareEqual(register: 1, data: [172, 16]),
            ])
    }

    @Test func ipv6Host() {
        #expect(
            RuleCompiler.expressions(for: .destination(.ipv6Loopback)) == [
                .meta(key: 15, register: 1), .compareEqual(register: 1, data: [10]),
                .payload(base: 1, offset: 24, length: 16, register: 1),
                .compareEqual(register: 1, data: [UInt8](repeating: 0, count: 15) + [1]),
            ])
    }

    @Test func tcpPortReturn() {
        let rule = Rule(matches: [.tcpDestinationPort(15000)], action: .returnFromChain, comment: "x")
        #expect(
            RuleCompiler.expressions(for: rule) == [
                .meta(key: 16, register: 1), .compareEqual(register: 1, data: [6]),
                .payload(base: 2, offset: 2, length: 2, register: 1), .compareEqual(register: 1, data: [0x3a, 0x98]),
                .counter, .verdict(-5),
            ])
    }

    /// `redirect to :15001` loads the port, then redirects with NF_NAT_RANGE_PROTO_SPECIFIED.
    @Test func redirect() {
        let rule = Rule(matches: [.tcp], action: .redirect(port: 15001), comment: "x")
        #expect(
            RuleCompiler.expressions(for: rule) == [
                .meta(key: 16, register: 1), .compareEqual(register: 1, data: [6]), .counter,
                .immediate(register: 1, data: [0x3a, 0x99]), .redirect(portRegister: 1, flags: 2),
            ])
    }
}
