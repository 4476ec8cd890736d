/// What `sidecar-init` captures and where it sends it.
///
/// Every property has the default of DESIGN.md, so `InterceptionConfig()` is the default capture.
public struct InterceptionConfig: Sendable, Hashable {
    /// The nftables table the project owns; nothing outside it is touched.
    public var table = "sidecar"
    /// Sockets owned by these uids are the proxy's own and are never redirected.
    public var proxyUIDs: [UInt32] = [1337]
    /// Sockets owned by these gids are the proxy's own and are never redirected.
    public var proxyGIDs: [UInt32] = [1337]
    /// Where outbound TCP is redirected (the proxy's outbound listener on loopback).
    public var outboundRedirectPort: UInt16 = 15001
    /// Where inbound TCP is redirected (the proxy's inbound listener).
    public var inboundRedirectPort: UInt16 = 15006
    /// Inbound ports to capture; nil captures every port (`*`).
    public var inboundPorts: [PortRange]?
    /// Inbound ports that reach their destination directly; the proxy's admin and telemetry ports always do.
    public var excludedInboundPorts: [PortRange] = []
    /// Outbound destination ports that are never captured.
    public var excludedOutboundPorts: [PortRange] = []
    /// Outbound destinations to capture; nil captures every destination (`*`).
    public var includedOutboundCIDRs: [IPNetwork]?
    /// Outbound destinations that are never captured.
    public var excludedOutboundCIDRs: [IPNetwork] = []
    /// Interfaces whose traffic, in or out, is never captured.
    public var excludedInterfaces: [String] = []
    /// Also redirect the app's DNS (UDP and TCP port 53, IPv4) to the proxy's DNS listener.
    public var redirectDNS = false
    /// Capture IPv4 only; IPv6 traffic passes untouched.
    public var ipv4Only = false

    /// The proxy's admin (15000) and telemetry (15020) ports: excluded from inbound capture so probes reach them.
    public static let proxyServicePorts: [UInt16] = [15000, 15020]
    /// The proxy's admin API on 127.0.0.1: only root and the proxy's uid may connect to it, so no other process in
    /// the pod (and no request the app is tricked into making) can drain, stop or reconfigure the proxy.
    public static let adminPort: UInt16 = 15000
    /// The source address the proxy delivers inbound connections from (as Istio does), so the rules can tell its
    /// deliveries from its self-calls.
    public static let inboundDeliverySource = IPNetwork(family: .ipv4, address: [127, 0, 0, 6], prefixLength: 32)
    /// The proxy's DNS listener on 127.0.0.1.
    public static let dnsRedirectPort: UInt16 = 15053

    public init() {}
}

extension InterceptionConfig {
    /// Every reason the settings cannot be installed, one message each naming the offending value; empty when valid.
    public func validationErrors() -> [String] {
        var errors: [String] = []
        if let problem = Self.tableNameProblem(table) { errors.append(problem) }
        if proxyUIDs.isEmpty { errors.append("proxy uid: at least one is required, or the proxy's traffic would loop") }
        for (name, port) in [("outbound port", outboundRedirectPort), ("inbound port", inboundRedirectPort)]
        where port == 0 {
            errors.append("\(name) 0: ports are 1-65535")
        }
        if outboundRedirectPort == inboundRedirectPort {
            errors.append("outbound port and inbound port are both \(inboundRedirectPort): they must differ")
        }
        let reserved = Self.proxyServicePorts + (redirectDNS ? [Self.dnsRedirectPort] : [])
        for (name, port) in [("outbound port", outboundRedirectPort), ("inbound port", inboundRedirectPort)]
        where reserved.contains(port) {
            errors.append(
                "\(name) \(port): the proxy serves something else there (15000 admin, 15020 telemetry, 15053 dns)")
        }
        if let excluded = excludedInboundPorts.first(where: { $0.contains(inboundRedirectPort) }) {
            errors.append("excluded inbound ports: \(excluded) contains the inbound port \(inboundRedirectPort)")
        }
        for captured in inboundPorts ?? [] {
            if let excluded = excludedInboundPorts.first(where: { $0.low <= captured.high && captured.low <= $0.high })
            {
                errors.append("inbound ports: \(captured) is both captured and excluded (\(excluded))")
            }
        }
        if redirectDNS, let excluded = excludedOutboundPorts.first(where: { $0.contains(53) }) {
            errors.append("excluded outbound ports: \(excluded) contains 53, which --redirect-dns captures")
        }
        if let excluded = excludedOutboundPorts.first(where: { $0.contains(outboundRedirectPort) }) {
            errors.append("excluded outbound ports: \(excluded) contains the outbound port \(outboundRedirectPort)")
        }
        if inboundPorts?.isEmpty == true { errors.append("inbound ports: list at least one port, or '*' for all") }
        if includedOutboundCIDRs?.isEmpty == true {
            errors.append("included outbound CIDRs: list at least one CIDR, or '*' for all")
        }
        for name in excludedInterfaces where !Self.isValidInterfaceName(name) {
            errors.append(
                "excluded interface '\(name)': interface names are 1-15 characters, without '/', quotes or spaces")
        }
        for network in (includedOutboundCIDRs ?? []) + excludedOutboundCIDRs where network.prefixLength == 0 {
            errors.append(
                "CIDR \(network): matches every address of its family; use '*' to include all, or --ipv4-only")
        }
        if ipv4Only {
            let ipv6 = (includedOutboundCIDRs ?? []) + excludedOutboundCIDRs
            for network in ipv6 where network.family == .ipv6 {
                errors.append("CIDR \(network): an IPv6 network, but capture is IPv4 only")
            }
        }
        return errors
    }

    /// Why `name` cannot name the project's table, or nil when it can.
    public static func tableNameProblem(_ name: String) -> String? {
        isValidTableName(name)
            ? nil : "table '\(name)': must start with a letter and hold only letters, digits, '_' and '-' (at most 64)"
    }

    private static func isValidTableName(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, name.unicodeScalars.count <= 64 else { return false }
        let letters = Unicode.Scalar("a").value...Unicode.Scalar("z").value
        func isLetter(_ scalar: Unicode.Scalar) -> Bool { letters.contains(scalar.value | 0x20) }
        return isLetter(first)
            && name.unicodeScalars.allSatisfy { isLetter($0) || ("0"..."9").contains($0) || $0 == "_" || $0 == "-" }
    }

    /// The kernel's rule for device names: at most IFNAMSIZ - 1 bytes, no '/' or whitespace. Quotes would break the
    /// rendered rule, and nft reads `*` as a wildcard and `\` as an escape, which `install` does not program.
    private static func isValidInterfaceName(_ name: String) -> Bool {
        (1...15).contains(name.utf8.count)
            && name.unicodeScalars.allSatisfy { $0.isASCII && $0.value > 32 && !"/\"'*\\".unicodeScalars.contains($0) }
    }
}
