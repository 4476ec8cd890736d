import Interception
import Testing

@Suite struct CaptureListParserTests {
    @Test func portsAndRanges() throws {
        #expect(
            try CaptureListParser.ports("22, 8000-8999,443") == [
                PortRange(22), PortRange(low: 8000, high: 8999), PortRange(443),
            ])
        #expect(try CaptureListParser.ports("") == [])
        #expect(try CaptureListParser.portsOrAll(" * ") == nil)
    }

    @Test(arguments: [
        ("0", "ports are whole numbers 1-65535"), ("65536", "ports are whole numbers 1-65535"),
        ("22,,23", "ports are whole numbers"), ("9000-8000", "a range runs low-high (8000-9000?)"),
        ("-5", "ports are whole numbers"), ("http", "ports are whole numbers"), ("1-2-3", "ports are whole numbers"),
    ])
    func badPortsNameTheEntry(text: String, reason: String) {
        #expect {
            try CaptureListParser.ports(text)
        } throws: { error in
            "\(error)".contains(reason)
        }
    }

    @Test func networksKeepTheirFamily() throws {
        let networks = try CaptureListParser.networks("10.0.0.0/8, fd00::/8")
        #expect(networks.map(\.family) == [.ipv4, .ipv6])
        #expect(try CaptureListParser.networksOrAll("*") == nil)
        #expect(throws: IPNetwork.ParseError.hostBitsSet("10.0.0.1/8", suggestion: "10.0.0.0/8")) {
            try CaptureListParser.networks("192.168.0.0/16,10.0.0.1/8")
        }
    }

    @Test func ids() throws {
        #expect(try CaptureListParser.ids("1337, 1500").get() == [1337, 1500])
        #expect(throws: CaptureListParser.IDParseError.self) { try CaptureListParser.ids("1337,root").get() }
    }

    /// The form nft keeps: single ports stay single; with a range, overlapping and adjacent entries merge.
    @Test func portNormalization() {
        #expect(PortRange.normalized([PortRange(23), PortRange(22), PortRange(22)]) == [PortRange(22), PortRange(23)])
        #expect(
            PortRange.normalized([
                PortRange(22), PortRange(low: 23, high: 25), PortRange(low: 24, high: 30), PortRange(80),
            ])
                == [PortRange(low: 22, high: 30), PortRange(80)])
    }
}

@Suite struct ProbeTargetTests {
    @Test func documentationAddressesByDefault() {
        #expect(
            ProbeTarget.targets(for: InterceptionConfig()).map(\.description) == ["192.0.2.1:9", "[2001:db8::1]:9"])
    }

    /// The probe must dial something the rules capture: inside the included CIDRs, outside the excluded ones, on a
    /// port that is not excluded, and only for captured families.
    @Test func aTargetTheRulesCapture() throws {
        var config = InterceptionConfig()
        config.ipv4Only = true
        config.includedOutboundCIDRs = try CaptureListParser.networks("10.0.0.0/8,10.96.0.0/12,172.16.0.0/12")
        config.excludedOutboundCIDRs = try CaptureListParser.networks("10.0.0.0/9")
        config.excludedOutboundPorts = try CaptureListParser.ports("1-10")
        #expect(ProbeTarget.targets(for: config).map(\.description) == ["172.16.0.1:11"])
    }
}
