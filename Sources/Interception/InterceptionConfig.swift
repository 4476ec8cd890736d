/// What `sidecar-init` captures and where it sends it.
///
/// Every property has the default of DESIGN.md, so `InterceptionConfig()` is the default capture.
public struct InterceptionConfig: Sendable, Hashable {
    /// The nftables table the project owns; nothing outside it is touched.
    public var table: String
    /// Sockets owned by these uids are the proxy's own and are never redirected.
    public var proxyUIDs: [UInt32]
    /// Sockets owned by these gids are the proxy's own and are never redirected.
    public var proxyGIDs: [UInt32]
    /// Where outbound TCP is redirected (the proxy's outbound listener on loopback).
    public var outboundRedirectPort: UInt16
    /// Where inbound TCP is redirected (the proxy's inbound listener).
    public var inboundRedirectPort: UInt16
    /// Inbound ports that reach their destination directly; the proxy's admin and telemetry ports are always among them.
    public var excludedInboundPorts: [UInt16]

    /// The proxy's admin (15000) and telemetry (15020) ports: excluded from inbound capture so probes reach them.
    public static let proxyServicePorts: [UInt16] = [15000, 15020]

    public init(
        table: String = "sidecar",
        proxyUIDs: [UInt32] = [1337],
        proxyGIDs: [UInt32] = [1337],
        outboundRedirectPort: UInt16 = 15001,
        inboundRedirectPort: UInt16 = 15006,
        excludedInboundPorts: [UInt16] = []
    ) {
        self.table = table
        self.proxyUIDs = proxyUIDs
        self.proxyGIDs = proxyGIDs
        self.outboundRedirectPort = outboundRedirectPort
        self.inboundRedirectPort = inboundRedirectPort
        self.excludedInboundPorts = excludedInboundPorts
    }
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
        for port in excludedInboundPorts where port == 0 { errors.append("excluded inbound port 0: ports are 1-65535") }
        if excludedInboundPorts.contains(inboundRedirectPort) {
            errors.append("inbound port \(inboundRedirectPort) is also excluded from inbound capture")
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
}
