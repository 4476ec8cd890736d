import Interception
import Testing

@Suite struct CaptureSettingsResolverTests {
    @Test func eachSettingHasItsNameInEverySource() {
        #expect(CaptureSetting.excludeOutboundPorts.key == "excludeOutboundPorts")
        #expect(CaptureSetting.excludeOutboundPorts.flag == "exclude-outbound-ports")
        #expect(CaptureSetting.excludeOutboundPorts.environmentVariable == "SIDECAR_EXCLUDE_OUTBOUND_PORTS")
        #expect(CaptureSetting.ipv4Only.flag == "ipv4-only")
        #expect(CaptureSetting.ipv4Only.environmentVariable == "SIDECAR_IPV4_ONLY")
        #expect(CaptureSetting.redirectDns.flag == "redirect-dns")
    }

    /// Flags win over the environment, which wins over the file; each value says where it came from.
    @Test func precedenceAndProvenance() throws {
        let resolver = CaptureSettingsResolver(layers: [
            .init(
                source: .configFile(path: "c.yaml"),
                values: [.excludeOutboundPorts: "7002", .proxyUid: "1", .ipv4Only: "true"]),
            .init(source: .environment, values: [.excludeOutboundPorts: "22", .proxyUid: "2"]),
            .init(source: .flags, values: [.proxyUid: "3,4"]),
        ])
        let (config, sources) = try resolver.resolve().get()
        #expect(config.proxyUIDs == [3, 4])
        #expect(config.excludedOutboundPorts == [PortRange(22)])
        #expect(config.ipv4Only)
        #expect(config.proxyGIDs == [1337])
        #expect(sources[.proxyUid] == .flags)
        #expect(sources[.excludeOutboundPorts] == .environment)
        #expect(sources[.ipv4Only] == .configFile(path: "c.yaml"))
        #expect(sources[.proxyGid] == nil)
    }

    /// Every problem is reported at once, each naming its source, the setting as written there, and the value.
    @Test func everyProblemIsNamed() {
        let resolver = CaptureSettingsResolver(layers: [
            .init(source: .configFile(path: "c.yaml"), values: [.excludeOutboundCidrs: "10.1.2.3/8"]),
            .init(source: .environment, values: [.redirectDns: "yes"]),
            .init(source: .flags, values: [.outboundPort: "15006"]),
        ])
        guard case .failure(let problems) = resolver.resolve() else {
            Issue.record("expected problems")
            return
        }
        #expect(
            problems.messages == [
                "config file c.yaml: excludeOutboundCidrs: '10.1.2.3/8' has host bits set; did you mean 10.0.0.0/8?",
                "environment: SIDECAR_REDIRECT_DNS: 'yes' is not true or false",
                "outbound port and inbound port are both 15006: they must differ",
            ])
    }

    @Test func textRoundTrips() throws {
        var config = InterceptionConfig()
        config.excludedOutboundPorts = [PortRange(22), PortRange(low: 8000, high: 8999)]
        config.includedOutboundCIDRs = try CaptureListParser.networks("10.0.0.0/8,fd00::/8")
        for setting in CaptureSetting.allCases {
            let text = setting.text(of: config)
            let resolved = try CaptureSettingsResolver(layers: [.init(source: .flags, values: [setting: text])])
                .resolve().get().config
            #expect(setting.text(of: resolved) == text, "\(setting)")
        }
    }
}
