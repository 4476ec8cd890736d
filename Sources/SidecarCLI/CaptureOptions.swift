import ArgumentParser
import Foundation
import Interception

/// The capture settings every subcommand that plans a ruleset accepts. Each is also read from a YAML file
/// (`--config`, keys in camelCase) and from `SIDECAR_*` environment variables; flags win over the environment, which
/// wins over the file. Lists are comma-separated; ports may be ranges (`8000-8999`); `*` means all.
public struct CaptureOptions: ParsableArguments {
    @Option(
        name: .customLong("config"),
        help:
            "YAML file of capture settings (keys in camelCase, e.g. excludeOutboundPorts: [7002]); also SIDECAR_CONFIG."
    )
    var configFile: String?

    @Option(help: "Proxy uids whose traffic is never captured (comma list). (default: 1337)")
    var proxyUid: String?

    @Option(help: "Proxy gids whose traffic is never captured (comma list). (default: 1337)")
    var proxyGid: String?

    @Option(help: "Port of the proxy's outbound listener. (default: 15001)")
    var outboundPort: String?

    @Option(help: "Port of the proxy's inbound listener. (default: 15006)")
    var inboundPort: String?

    @Option(help: "Inbound ports to capture: '*' for all, or ports and ranges. (default: *)")
    var inboundPorts: String?

    @Option(
        help: "Inbound ports that reach the app directly, besides 15000 and 15020: ports and ranges. (default: none)")
    var excludeInboundPorts: String?

    @Option(help: "Outbound destination ports that are never captured: ports and ranges. (default: none)")
    var excludeOutboundPorts: String?

    @Option(help: "Outbound destinations to capture: '*' for all, or IPv4/IPv6 CIDRs. (default: *)")
    var includeOutboundCidrs: String?

    @Option(help: "Outbound destinations that are never captured: IPv4/IPv6 CIDRs. (default: none)")
    var excludeOutboundCidrs: String?

    @Option(help: "Interfaces whose traffic, in or out, is never captured (comma list). (default: none)")
    var excludeInterfaces: String?

    @Flag(
        inversion: .prefixedNo,
        help: "Also redirect the app's DNS (UDP and TCP port 53, IPv4) to the proxy's port 15053. (default: off)")
    var redirectDns: Bool?

    @Flag(inversion: .prefixedNo, help: "Capture IPv4 only; IPv6 passes untouched. (default: off)")
    var ipv4Only: Bool?

    @Option(help: "Name of the nftables table (family inet) the project owns. (default: sidecar)")
    var table: String?

    public init() {}

    /// The effective, validated settings and where each came from; bad input fails here, before the kernel is
    /// touched, with every problem named.
    public func resolve() throws(CommandFailure) -> (
        config: InterceptionConfig, sources: [CaptureSetting: CaptureSettingsResolver.Source]
    ) {
        var layers: [CaptureSettingsResolver.Layer] = []
        let environment = ProcessInfo.processInfo.environment
        if let path = configFile ?? environment["SIDECAR_CONFIG"] {
            layers.append(try CaptureConfigFile.load(path: path))
        }
        layers.append(
            CaptureSettingsResolver.Layer(
                source: .environment,
                values: Dictionary(
                    uniqueKeysWithValues: CaptureSetting.allCases.compactMap { setting in
                        environment[setting.environmentVariable].map { (setting, $0) }
                    })))
        layers.append(CaptureSettingsResolver.Layer(source: .flags, values: flagValues))
        switch CaptureSettingsResolver(layers: layers).resolve() {
        case .success(let resolved): return resolved
        case .failure(let problems): throw .badInput(problems.description)
        }
    }

    public func config() throws(CommandFailure) -> InterceptionConfig {
        try resolve().config
    }

    private var flagValues: [CaptureSetting: String] {
        let values: [CaptureSetting: String?] = [
            .table: table, .proxyUid: proxyUid, .proxyGid: proxyGid, .outboundPort: outboundPort,
            .inboundPort: inboundPort, .inboundPorts: inboundPorts, .excludeInboundPorts: excludeInboundPorts,
            .excludeOutboundPorts: excludeOutboundPorts, .includeOutboundCidrs: includeOutboundCidrs,
            .excludeOutboundCidrs: excludeOutboundCidrs, .excludeInterfaces: excludeInterfaces,
            .redirectDns: redirectDns.map { "\($0)" }, .ipv4Only: ipv4Only.map { "\($0)" },
        ]
        return values.compactMapValues { $0 }
    }
}
