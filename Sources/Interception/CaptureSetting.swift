/// One capture setting, by the names it has in each source: flag (`--exclude-outbound-ports`), environment
/// (`SIDECAR_EXCLUDE_OUTBOUND_PORTS`) and config file (`excludeOutboundPorts`). Every source gives values as the
/// flag's text (lists comma-separated, `*` for all), so one parser serves them all.
public enum CaptureSetting: String, CaseIterable, Sendable {
    case table
    case proxyUid
    case proxyGid
    case outboundPort
    case inboundPort
    case inboundPorts
    case excludeInboundPorts
    case excludeOutboundPorts
    case includeOutboundCidrs
    case excludeOutboundCidrs
    case excludeInterfaces
    case redirectDns
    case ipv4Only

    /// The config file key.
    public var key: String { rawValue }

    /// `excludeOutboundPorts` → `exclude-outbound-ports`.
    public var flag: String {
        rawValue.reduce(into: "") { name, character in
            if character.isUppercase { name += "-" }
            name += character.lowercased()
        }
    }

    /// `excludeOutboundPorts` → `swift-sidecar.io/exclude-outbound-ports`, the pod annotation `sidecar-inject` reads.
    public var annotation: String {
        Self.annotationPrefix + flag
    }

    /// The prefix of every pod annotation `sidecar-inject` reads.
    public static let annotationPrefix = "swift-sidecar.io/"

    /// `excludeOutboundPorts` → `SIDECAR_EXCLUDE_OUTBOUND_PORTS`.
    public var environmentVariable: String {
        "SIDECAR_" + String(flag.uppercased().map { $0 == "-" ? "_" : $0 })
    }

    /// Sets this setting from its text form.
    func apply(_ text: String, to config: inout InterceptionConfig) throws(SettingError) {
        do {
            switch self {
            case .table: config.table = text
            case .proxyUid: config.proxyUIDs = try CaptureListParser.ids(text).get()
            case .proxyGid: config.proxyGIDs = try CaptureListParser.ids(text).get()
            case .outboundPort: config.outboundRedirectPort = try Self.port(text)
            case .inboundPort: config.inboundRedirectPort = try Self.port(text)
            case .inboundPorts: config.inboundPorts = try CaptureListParser.portsOrAll(text)
            case .excludeInboundPorts: config.excludedInboundPorts = try CaptureListParser.ports(text)
            case .excludeOutboundPorts: config.excludedOutboundPorts = try CaptureListParser.ports(text)
            case .includeOutboundCidrs: config.includedOutboundCIDRs = try CaptureListParser.networksOrAll(text)
            case .excludeOutboundCidrs: config.excludedOutboundCIDRs = try CaptureListParser.networks(text)
            case .excludeInterfaces: config.excludedInterfaces = CaptureListParser.entries(text)
            case .redirectDns: config.redirectDNS = try Self.boolean(text)
            case .ipv4Only: config.ipv4Only = try Self.boolean(text)
            }
        } catch let error as SettingError {
            throw error
        } catch {
            throw SettingError(reason: "\(error)")
        }
    }

    /// The setting's value in `config`, in the same text form.
    public func text(of config: InterceptionConfig) -> String {
        func list(_ values: [some CustomStringConvertible]) -> String {
            values.map(\.description).joined(separator: ",")
        }
        return switch self {
        case .table: config.table
        case .proxyUid: list(config.proxyUIDs)
        case .proxyGid: list(config.proxyGIDs)
        case .outboundPort: "\(config.outboundRedirectPort)"
        case .inboundPort: "\(config.inboundRedirectPort)"
        case .inboundPorts: config.inboundPorts.map(list) ?? "*"
        case .excludeInboundPorts: list(config.excludedInboundPorts)
        case .excludeOutboundPorts: list(config.excludedOutboundPorts)
        case .includeOutboundCidrs: config.includedOutboundCIDRs.map(list) ?? "*"
        case .excludeOutboundCidrs: list(config.excludedOutboundCIDRs)
        case .excludeInterfaces: list(config.excludedInterfaces)
        case .redirectDns: "\(config.redirectDNS)"
        case .ipv4Only: "\(config.ipv4Only)"
        }
    }

    /// Why a setting's text was rejected.
    public struct SettingError: Error, CustomStringConvertible {
        public let reason: String
        public var description: String { reason }
    }

    private static func port(_ text: String) throws(SettingError) -> UInt16 {
        guard let port = UInt16(text), port > 0 else { throw SettingError(reason: "'\(text)' is not a port (1-65535)") }
        return port
    }

    private static func boolean(_ text: String) throws(SettingError) -> Bool {
        switch text {
        case "true": return true
        case "false": return false
        default: throw SettingError(reason: "'\(text)' is not true or false")
        }
    }
}
