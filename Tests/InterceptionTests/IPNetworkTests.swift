import Interception
import Testing

@Suite struct IPNetworkTests {
    @Test(arguments: [
        ("10.0.0.0/8", "10.0.0.0/8"), ("192.0.2.7", "192.0.2.7"), ("192.0.2.7/32", "192.0.2.7"),
        ("0.0.0.0/0", "0.0.0.0/0"), ("fd00::/8", "fd00::/8"), ("::1", "::1"),
        ("2001:db8:0:0::0/64", "2001:db8::/64"), ("172.16.0.0/12", "172.16.0.0/12"),
    ])
    func parsesAndPrintsCanonically(text: String, printed: String) throws {
        #expect(try IPNetwork(parsing: text).description == printed)
    }

    @Test func hostBitsAreAnErrorWithTheIntendedNetworkSuggested() {
        #expect(throws: IPNetwork.ParseError.hostBitsSet("10.1.2.3/8", suggestion: "10.0.0.0/8")) {
            try IPNetwork(parsing: "10.1.2.3/8")
        }
        #expect(throws: IPNetwork.ParseError.hostBitsSet("172.31.0.1/12", suggestion: "172.16.0.0/12")) {
            try IPNetwork(parsing: "172.31.0.1/12")
        }
        #expect(throws: IPNetwork.ParseError.hostBitsSet("fd00::1/64", suggestion: "fd00::/64")) {
            try IPNetwork(parsing: "fd00::1/64")
        }
    }

    @Test(arguments: ["10.0.0.0/33", "::/129", "10.0.0.0/-1", "10.0.0.0/", "10.0.0.0/+8", "10.0.0.0/٨"])
    func badPrefixLengths(text: String) {
        #expect(throws: IPNetwork.ParseError.badPrefixLength(text)) { try IPNetwork(parsing: text) }
    }

    @Test(arguments: ["", "10.0.0", "10.0.0.256", "example.com", "::g", "1.2.3.4 "])
    func notAddresses(text: String) {
        #expect(throws: IPNetwork.ParseError.notAnAddress(text)) { try IPNetwork(parsing: text) }
    }

    @Test func lastAddressAndContainment() throws {
        let network = try IPNetwork(parsing: "172.16.0.0/12")
        #expect(network.lastAddress == [172, 31, 255, 255])
        #expect(network.contains(try IPNetwork(parsing: "172.20.1.0/24")))
        #expect(!network.contains(try IPNetwork(parsing: "172.32.0.0/16")))
        #expect(!network.contains(try IPNetwork(parsing: "fd00::/8")))
    }

    /// Duplicates and networks inside another drop out, and the order no longer matters.
    @Test func normalization() throws {
        let written = try CaptureListParser.networks("10.1.0.0/16,192.168.0.0/16,10.0.0.0/8,10.0.0.0/8")
        #expect(IPNetwork.normalized(written).map(\.description) == ["10.0.0.0/8", "192.168.0.0/16"])
    }

    @Test func ipv4MappedAddressesAreRefusedWithTheIPv4Form() {
        #expect(throws: IPNetwork.ParseError.ipv4Mapped("::ffff:10.0.0.0/104", suggestion: "10.0.0.0/8")) {
            try IPNetwork(parsing: "::ffff:10.0.0.0/104")
        }
        #expect(throws: IPNetwork.ParseError.ipv4Mapped("::ffff:192.0.2.1", suggestion: "192.0.2.1")) {
            try IPNetwork(parsing: "::ffff:192.0.2.1")
        }
    }
}
