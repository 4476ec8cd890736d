import ArgumentParser
import Interception
import SidecarCLI

/// The capture settings every subcommand that plans a ruleset accepts. Lists are comma-separated; ports may be
/// ranges (`8000-8999`); `*` means all.
struct CaptureOptions: ParsableArguments {
    @Option(help: "Proxy uids whose traffic is never captured (comma list).", transform: CaptureOptions.ids)
    var proxyUID: [UInt32] = [1337]

    @Option(help: "Proxy gids whose traffic is never captured (comma list).", transform: CaptureOptions.ids)
    var proxyGID: [UInt32] = [1337]

    @Option(help: "Port of the proxy's outbound listener.")
    var outboundPort: UInt16 = 15001

    @Option(help: "Port of the proxy's inbound listener.")
    var inboundPort: UInt16 = 15006

    @Option(help: "Inbound ports to capture: '*' for all, or a list of ports and ranges. (default: *)")
    var inboundPorts = "*"

    @Option(help: "Inbound ports that reach the app directly (besides 15000 and 15020): ports and ranges.")
    var excludeInboundPorts = ""

    @Option(help: "Outbound destination ports that are never captured: ports and ranges.")
    var excludeOutboundPorts = ""

    @Option(help: "Outbound destinations to capture: '*' for all, or IPv4/IPv6 CIDRs. (default: *)")
    var includeOutboundCidrs = "*"

    @Option(help: "Outbound destinations that are never captured: IPv4/IPv6 CIDRs.")
    var excludeOutboundCidrs = ""

    @Option(help: "Interfaces whose traffic, in or out, is never captured (comma list).")
    var excludeInterfaces = ""

    @Flag(help: "Also redirect the app's DNS (UDP and TCP port 53, IPv4) to the proxy's port 15053.")
    var redirectDNS = false

    @Flag(help: "Capture IPv4 only; IPv6 passes untouched.")
    var ipv4Only = false

    @OptionGroup var table: TableOption

    /// The validated settings; bad input fails here, before the kernel is touched.
    func config() throws(CommandFailure) -> InterceptionConfig {
        var config = InterceptionConfig()
        config.table = table.table
        config.proxyUIDs = proxyUID
        config.proxyGIDs = proxyGID
        config.outboundRedirectPort = outboundPort
        config.inboundRedirectPort = inboundPort
        config.redirectDNS = redirectDNS
        config.ipv4Only = ipv4Only
        config.excludedInterfaces = CaptureListParser.entries(excludeInterfaces)
        config.inboundPorts = try Self.parse("inbound-ports") { () throws(PortRange.ParseError) in
            try CaptureListParser.portsOrAll(inboundPorts)
        }
        config.excludedInboundPorts = try Self.parse("exclude-inbound-ports") { () throws(PortRange.ParseError) in
            try CaptureListParser.ports(excludeInboundPorts)
        }
        config.excludedOutboundPorts = try Self.parse("exclude-outbound-ports") { () throws(PortRange.ParseError) in
            try CaptureListParser.ports(excludeOutboundPorts)
        }
        config.includedOutboundCIDRs = try Self.parse("include-outbound-cidrs") { () throws(IPNetwork.ParseError) in
            try CaptureListParser.networksOrAll(includeOutboundCidrs)
        }
        config.excludedOutboundCIDRs = try Self.parse("exclude-outbound-cidrs") { () throws(IPNetwork.ParseError) in
            try CaptureListParser.networks(excludeOutboundCidrs)
        }
        let errors = config.validationErrors()
        if !errors.isEmpty { throw .badInput(errors.joined(separator: "\n")) }
        return config
    }

    /// Runs a list parser, naming the flag in its error.
    private static func parse<Value, Failure: Error>(
        _ flag: String, _ body: () throws(Failure) -> Value
    ) throws(CommandFailure) -> Value {
        do {
            return try body()
        } catch {
            throw .badInput("--\(flag): \(error)")
        }
    }

    static func ids(_ text: String) throws -> [UInt32] {
        try CaptureListParser.ids(text).get()
    }
}
