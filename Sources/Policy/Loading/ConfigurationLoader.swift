import Interception
import Yams

/// Reads the proxy's YAML configuration (DESIGN.md's keys; every key optional) into a validated
/// `ProxyConfiguration`. Values are read as written, never through YAML's type guessing; unknown keys and wrong
/// types are errors; every error is collected with its key path, so one run shows them all.
public enum ConfigurationLoader {
    public static func load(yaml text: String) -> Result<ProxyConfiguration, ConfigurationError> {
        var reader = NodeReader()
        let root: Node?
        do {
            root = try Yams.compose(yaml: text)
        } catch {
            return .failure(ConfigurationError(problems: ["not valid YAML (quote values with ':'): \(error)"]))
        }
        var configuration = ProxyConfiguration()
        let sections = ["listeners", "timeouts", "policy", "limits", "services", "dns", "identity", "mtls", "ids"]
        if let root, let fields = reader.mapping(root, at: "", keys: sections) {
            if let node = fields["dns"], let dns = reader.mapping(node, at: "dns", keys: ["deny"]) {
                configuration.dnsDeny = reader.values(dns["deny"], at: "dns.deny") { try HostPattern(parsing: $0) }
            }
            if let node = fields["services"] {
                configuration.services = reader.list(node, at: "services").compactMap { item, path in
                    readService(item, at: path, &reader)
                }
                checkServiceAddresses(configuration.services, &reader)
            }
            if let node = fields["limits"] {
                configuration.limits = reader.list(node, at: "limits").compactMap { item, path in
                    readLimit(item, at: path, &reader)
                }
                // Counts and buckets belong to an entry by its name: two entries of one name would share them.
                var seen = Set<String>()
                for (index, limit) in configuration.limits.enumerated() where !seen.insert(limit.name).inserted {
                    reader.problem("limits[\(index)].name", "'\(limit.name)' names another entry too")
                }
            }
            if let node = fields["identity"] { configuration.identity = readIdentity(node, &reader) }
            if let node = fields["mtls"] { configuration.mtls = readMeshTLS(node, &reader) }
            if let node = fields["ids"] { configuration.intrusionDetection = readIntrusionDetection(node, &reader) }
            if let node = fields["listeners"] { readListeners(node, into: &configuration.listeners, &reader) }
            if let node = fields["timeouts"] { readTimeouts(node, into: &configuration.timeouts, &reader) }
            if let node = fields["policy"],
                let policy = reader.mapping(node, at: "policy", keys: ["outbound", "inbound"])
            {
                if let node = policy["outbound"] {
                    configuration.outboundPolicy = readPolicy(node, at: "policy.outbound", inbound: false, &reader)
                }
                if let node = policy["inbound"] {
                    configuration.inboundPolicy = readPolicy(node, at: "policy.inbound", inbound: true, &reader)
                }
            }
        }
        if configuration.identity == nil { checkMeshNeedsIdentity(configuration, &reader) }
        checkHealthChecksArePlaintext(configuration, &reader)
        let ports = configuration.listeners.all
        if Set(ports).count != ports.count {
            reader.problem(
                "listeners",
                "every listener needs a port of its own (\(ports.map(String.init).joined(separator: ", ")))")
        }
        return reader.problems.isEmpty
            ? .success(configuration) : .failure(ConfigurationError(problems: reader.problems))
    }

    private static func readListeners(
        _ node: Node, into listeners: inout ProxyConfiguration.Listeners, _ reader: inout NodeReader
    ) {
        guard let fields = reader.mapping(node, at: "listeners", keys: ["outbound", "inbound", "admin", "telemetry"])
        else {
            return
        }
        func port(_ key: String) -> Int? {
            guard
                let range = fields[key].flatMap({
                    reader.parse($0, at: "listeners.\(key)") { try PortRange(parsing: $0) }
                })
            else { return nil }
            guard range.isSinglePort else {
                reader.problem("listeners.\(key)", "'\(range)': a listener is one port")
                return nil
            }
            return Int(range.low)
        }
        if let value = port("outbound") { listeners.outbound = value }
        if let value = port("inbound") { listeners.inbound = value }
        if let value = port("admin") { listeners.admin = value }
        if let value = port("telemetry") { listeners.telemetry = value }
    }

    private static func readTimeouts(
        _ node: Node, into timeouts: inout ProxyConfiguration.Timeouts, _ reader: inout NodeReader
    ) {
        let keys = ["connect", "idle", "detect", "drain", "request", "keepalive"]
        guard let fields = reader.mapping(node, at: "timeouts", keys: keys) else {
            return
        }
        func duration(_ key: String) -> Duration? {
            guard let node = fields[key] else { return nil }
            let value = reader.parse(node, at: "timeouts.\(key)") { try DurationText.parse($0) }
            if let value, value <= .zero || value > Self.longestTimeouts[key]! {
                reader.problem("timeouts.\(key)", "must be longer than zero and at most \(Self.longestTimeouts[key]!)")
                return nil
            }
            return value
        }
        if let value = duration("connect") { timeouts.connect = value }
        if let value = duration("idle") { timeouts.idle = value }
        if let value = duration("detect") { timeouts.detect = value }
        if let value = duration("drain") { timeouts.drain = value }
        if let value = duration("request") { timeouts.request = value }
        if let value = duration("keepalive") {
            if value < .seconds(1) {
                reader.problem("timeouts.keepalive", "must be at least 1s (TCP keepalive counts whole seconds)")
            } else {
                timeouts.keepalive = value
            }
        }
    }

    /// Bounds that keep a typo from stalling connections (a detect of an hour) or overflowing arithmetic.
    static let longestTimeouts: [String: Duration] = [
        "connect": .seconds(60), "detect": .seconds(60), "idle": .seconds(7 * 24 * 3600),
        "drain": .seconds(24 * 3600), "request": .seconds(24 * 3600), "keepalive": .seconds(7200),
    ]

    private static func readLimit(_ node: Node, at path: String, _ reader: inout NodeReader) -> TrafficLimit? {
        let bounds = ["maxConnections", "requestsPerSecond", "maxRequests", "maxPendingRequests"]
        let keys = ["name", "direction", "cidrs", "ports", "burst"] + bounds
        guard let fields = reader.mapping(node, at: path, keys: keys) else { return nil }
        guard bounds.contains(where: { fields[$0] != nil }) else {
            reader.problem(path, "a limit needs one of \(bounds.joined(separator: ", "))")
            return nil
        }
        let name = fields["name"].flatMap { reader.scalar($0, at: "\(path).name") }
        var limit = TrafficLimit(name: name ?? path)
        func count(_ key: String) -> Int? {
            fields[key].flatMap { reader.wholeNumber($0, at: "\(path).\(key)", in: 1...Int.max) }
        }
        limit.maxConnections = count("maxConnections")
        limit.maxRequests = count("maxRequests")
        limit.maxPendingRequests = count("maxPendingRequests")
        let burst = count("burst")
        if let node = fields["requestsPerSecond"] {
            let perSecond = reader.parse(node, at: "\(path).requestsPerSecond") { text in
                // A rate under one per thousand seconds would refill slower than anyone could tell from "never".
                guard let value = Double(text), value.isFinite, value >= 0.001, value <= 1_000_000 else {
                    throw NodeReader.Invalid("'\(text)' is not a rate between 0.001 and 1000000")
                }
                return value
            }
            limit.rate = perSecond.map { RequestRate(perSecond: $0, burst: burst) }
        } else if fields["burst"] != nil {
            reader.problem("\(path).burst", "burst needs requestsPerSecond")
        }
        if let node = fields["direction"], let text = reader.scalar(node, at: "\(path).direction") {
            limit.direction = TrafficDirection(rawValue: text)
            if limit.direction == nil { reader.problem("\(path).direction", "'\(text)' is not outbound or inbound") }
        }
        limit.cidrs = reader.values(fields["cidrs"], at: "\(path).cidrs") { try IPNetwork(parsing: $0) }
        limit.ports = reader.values(fields["ports"], at: "\(path).ports") { try PortRange(parsing: $0) }
        return limit
    }

    private static func readPolicy(_ node: Node, at path: String, inbound: Bool, _ reader: inout NodeReader)
        -> DirectionPolicy
    {
        var policy = DirectionPolicy()
        guard let fields = reader.mapping(node, at: path, keys: ["default", "rules"]) else { return policy }
        if let node = fields["default"], let action = reader.action(node, at: "\(path).default") {
            policy.defaultAction = action
        }
        if let node = fields["rules"] {
            policy.rules = reader.list(node, at: "\(path).rules").compactMap { item, itemPath in
                readRule(item, at: itemPath, inbound: inbound, &reader)
            }
        }
        return policy
    }

    private static func readRule(_ node: Node, at path: String, inbound: Bool, _ reader: inout NodeReader)
        -> PolicyRule?
    {
        let keys = ["action", "name", "cidrs", "ports", "sourceCidrs", "sni", "http", "from"]
        guard let fields = reader.mapping(node, at: path, keys: keys) else { return nil }
        guard let actionNode = fields["action"] else {
            reader.problem(path, "a rule needs an action (allow or deny)")
            return nil
        }
        guard let action = reader.action(actionNode, at: "\(path).action") else { return nil }
        var rule = PolicyRule(action: action)
        rule.name = fields["name"].flatMap { reader.scalar($0, at: "\(path).name") }
        rule.cidrs = reader.values(fields["cidrs"], at: "\(path).cidrs") { try IPNetwork(parsing: $0) }
        rule.ports = reader.values(fields["ports"], at: "\(path).ports") { try PortRange(parsing: $0) }
        rule.sourceCidrs = reader.values(fields["sourceCidrs"], at: "\(path).sourceCidrs") {
            try IPNetwork(parsing: $0)
        }
        if !rule.sourceCidrs.isEmpty && !inbound {
            reader.problem("\(path).sourceCidrs", "only inbound rules can match the peer's address")
        }
        rule.sni = reader.values(fields["sni"], at: "\(path).sni") { try HostPattern(parsing: $0) }
        if let node = fields["http"] { rule.http = readHTTP(node, at: "\(path).http", &reader) }
        if !rule.sni.isEmpty && rule.http != nil {
            reader.problem(path, "a rule matches TLS (sni) or HTTP (http), not both")
        }
        if let node = fields["from"] {
            if inbound {
                rule.from = readPeerMatch(node, at: "\(path).from", &reader)
            } else {
                reader.problem("\(path).from", "only inbound rules can match the caller's identity")
            }
        }
        return rule
    }

    private static func readHTTP(_ node: Node, at path: String, _ reader: inout NodeReader) -> HTTPRuleMatch? {
        guard let fields = reader.mapping(node, at: path, keys: ["host", "methods", "pathPrefix", "headers"]) else {
            return nil
        }
        var match = HTTPRuleMatch()
        match.host = fields["host"].flatMap { node in
            reader.parse(node, at: "\(path).host") { try HostPattern(parsing: $0) }
        }
        match.methods = reader.values(fields["methods"], at: "\(path).methods") { text in
            guard !text.isEmpty, text.allSatisfy({ $0.isASCII && ($0.isUppercase || $0 == "-") }) else {
                throw NodeReader.Invalid("'\(text)' is not an HTTP method (upper case, e.g. GET)")
            }
            return text
        }
        if let node = fields["pathPrefix"] {
            match.pathPrefix = requestPath(node, at: "\(path).pathPrefix", &reader)
        }
        if let node = fields["headers"], let headers = reader.mapping(node, at: "\(path).headers", keys: nil) {
            for (name, value) in headers {
                guard ASCII.isToken(name) else {
                    reader.problem("\(path).headers", "'\(name)' is not a header name")
                    continue
                }
                if let value = headerValueMatch(value, at: "\(path).headers.\(name)", &reader) {
                    match.headers[name.lowercased()] = value
                }
            }
        }
        return match
    }

    /// A path as requests are matched on it: normalized, so one in any other form would never match.
    static func requestPath(_ node: Node, at path: String, _ reader: inout NodeReader) -> String? {
        guard let text = reader.scalar(node, at: path) else { return nil }
        let normal = text.hasPrefix("/") ? RequestTarget(parsing: text, isConnect: false)?.path : nil
        if !text.hasPrefix("/") || text.contains("?") || text.contains("#") {
            reader.problem(path, "'\(text)' must be a path starting with '/'")
        } else if normal != text {
            reader.problem(path, "'\(text)' is not a normalized path; write '\(normal ?? "/")'")
        } else {
            return text
        }
        return nil
    }

    /// `value` (exactly) or `{ prefix: value }`.
    private static func headerValueMatch(_ node: Node, at path: String, _ reader: inout NodeReader)
        -> HeaderValueMatch?
    {
        guard case .mapping = node else { return reader.scalar(node, at: path).map(HeaderValueMatch.exact) }
        guard let fields = reader.mapping(node, at: path, keys: ["prefix"]) else { return nil }
        guard let prefix = fields["prefix"] else {
            reader.problem(path, "give a value, or { prefix: VALUE }")
            return nil
        }
        return reader.scalar(prefix, at: "\(path).prefix").map(HeaderValueMatch.prefix)
    }
}
