import Policy

/// `/config_dump`: the configuration in force, with every default filled in, in the config file's own shape and
/// words, so an operator can compare it with the file they meant to load.
struct ConfigurationDump: Encodable {
    struct Rule: Encodable {
        var action: String
        var name: String?
        var cidrs: [String]?
        var ports: [String]?
        var sourceCidrs: [String]?
        var sni: [String]?
        var http: HTTP?
    }

    struct HTTP: Encodable {
        var host: String?
        var methods: [String]?
        var pathPrefix: String?
        var headers: [String: Header]?
    }

    /// A header condition as it is written: the value, or `{ "prefix": … }`.
    enum Header: Encodable {
        case exact(String)
        case prefix(String)

        init(_ match: HeaderValueMatch) {
            switch match {
            case .exact(let value): self = .exact(value)
            case .prefix(let value): self = .prefix(value)
            }
        }

        func encode(to encoder: any Encoder) throws {
            switch self {
            case .exact(let value):
                var container = encoder.singleValueContainer()
                try container.encode(value)
            case .prefix(let value):
                try ["prefix": value].encode(to: encoder)
            }
        }
    }

    struct Direction: Encodable {
        var `default`: String
        var rules: [Rule]
    }

    var generation: Int
    var listeners: [String: Int]
    /// Milliseconds, so that no unit needs reading.
    var timeoutsMs: [String: Int64]
    var policy: [String: Direction]
    var limits: [Limit]
    var services: [Service]
    /// The identity files' paths (certificate, privateKey, trustBundle), a directory's layout resolved.
    var identity: [String: String]?
    var ids: IntrusionSettings?

    struct Service: Encodable {
        var name: String
        var address: String
        var endpoints: [String]
        var balancer: String
        var outlierDetection: OutlierDetection?
        var retries: Int
    }

    struct OutlierDetection: Encodable {
        var consecutiveFailures: Int
        var ejectionTimeMs: Int64
    }

    struct Limit: Encodable {
        var name: String
        var direction: String?
        var cidrs: [String]?
        var ports: [String]?
        var maxConnections: Int?
        var requestsPerSecond: Double?
        var burst: Int?
        var maxRequests: Int?
        var maxPendingRequests: Int?
    }

    init(_ configuration: ProxyConfiguration, generation: Int) {
        self.generation = generation
        let listeners = configuration.listeners
        self.listeners = [
            "outbound": listeners.outbound, "inbound": listeners.inbound, "admin": listeners.admin,
            "telemetry": listeners.telemetry,
        ]
        let timeouts = configuration.timeouts
        timeoutsMs = [
            "connect": Self.milliseconds(timeouts.connect), "idle": Self.milliseconds(timeouts.idle),
            "detect": Self.milliseconds(timeouts.detect), "drain": Self.milliseconds(timeouts.drain),
            "keepalive": Self.milliseconds(timeouts.keepalive),
        ]
        if let request = timeouts.request { timeoutsMs["request"] = Self.milliseconds(request) }
        identity = configuration.identity.map {
            ["certificate": $0.certificate, "privateKey": $0.privateKey, "trustBundle": $0.trustBundle]
        }
        policy = [
            "outbound": Self.direction(configuration.outboundPolicy),
            "inbound": Self.direction(configuration.inboundPolicy),
        ]
        services = configuration.services.map { service in
            Service(
                name: service.name, address: service.addressDescription,
                endpoints: service.endpoints.map(\.description), balancer: service.balancer.rawValue,
                outlierDetection: service.outlierDetection.map {
                    OutlierDetection(
                        consecutiveFailures: $0.consecutiveFailures, ejectionTimeMs: Self.milliseconds($0.ejectionTime))
                }, retries: service.retries)
        }
        ids = configuration.intrusionDetection.map { IntrusionSettings($0) }
        limits = configuration.limits.map { limit in
            Limit(
                name: limit.name, direction: limit.direction?.rawValue, cidrs: Self.list(limit.cidrs),
                ports: Self.list(limit.ports), maxConnections: limit.maxConnections,
                requestsPerSecond: limit.rate?.perSecond, burst: limit.rate?.burst, maxRequests: limit.maxRequests,
                maxPendingRequests: limit.maxPendingRequests)
        }
    }

    private static func direction(_ policy: DirectionPolicy) -> Direction {
        Direction(
            default: policy.defaultAction.rawValue,
            rules: policy.rules.map { rule in
                Rule(
                    action: rule.action.rawValue, name: rule.name, cidrs: list(rule.cidrs), ports: list(rule.ports),
                    sourceCidrs: list(rule.sourceCidrs), sni: list(rule.sni),
                    http: rule.http.map { match in
                        HTTP(
                            host: match.host?.description, methods: match.methods.isEmpty ? nil : match.methods,
                            pathPrefix: match.pathPrefix,
                            headers: match.headers.isEmpty ? nil : match.headers.mapValues(Header.init))
                    })
            })
    }

    /// Nil for an empty list: the key was not given, and matches anything.
    private static func list(_ values: [some CustomStringConvertible]) -> [String]? {
        values.isEmpty ? nil : values.map(\.description)
    }

    static func milliseconds(_ duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        return seconds * 1000 + attoseconds / 1_000_000_000_000_000
    }
}
