import Interception
import Yams

extension ConfigurationLoader {
    /// `services[i]`: a name, a virtual `address`, its `endpoints`, and how they are balanced.
    static func readService(_ node: Node, at path: String, _ reader: inout NodeReader) -> ServiceDefinition? {
        let keys = [
            "name", "address", "endpoints", "balancer", "outlierDetection", "retries", "mtls", "identities",
            "healthCheck",
        ]
        guard let fields = reader.mapping(node, at: path, keys: keys) else { return nil }
        for key in ["name", "address", "endpoints"] where fields[key] == nil {
            reader.problem(path, "a service needs \(key)")
        }
        let name = fields["name"].flatMap { reader.scalar($0, at: "\(path).name") }
        let address = fields["address"].flatMap { node in
            reader.parse(node, at: "\(path).address") { text in
                guard let endpoint = IPNetwork.endpoint(parsing: text) else {
                    throw NodeReader.Invalid("'\(text)' is not IP:PORT (a service's address is the one the app dials)")
                }
                return endpoint
            }
        }
        let endpoints = reader.values(fields["endpoints"], at: "\(path).endpoints") { try ServiceEndpoint.parse($0) }
        guard let name, let address, !endpoints.isEmpty else { return nil }
        var service = ServiceDefinition(name: name, address: address.address, port: address.port, endpoints: endpoints)
        if let node = fields["balancer"] {
            service.balancer =
                reader.parse(node, at: "\(path).balancer") { text in
                    guard let balancer = ServiceDefinition.Balancer(rawValue: text) else {
                        let known = ServiceDefinition.Balancer.allCases.map(\.rawValue).joined(separator: ", ")
                        throw NodeReader.Invalid("'\(text)' is not one of \(known)")
                    }
                    return balancer
                } ?? service.balancer
        }
        if let node = fields["retries"] {
            service.retries = reader.wholeNumber(node, at: "\(path).retries", in: 0...10) ?? service.retries
        }
        if let node = fields["outlierDetection"] {
            service.outlierDetection = readOutlierDetection(node, at: "\(path).outlierDetection", &reader)
        }
        if let node = fields["mtls"] { service.mtls = reader.boolean(node, at: "\(path).mtls") }
        service.identities = reader.values(fields["identities"], at: "\(path).identities") {
            try IdentityPattern(parsing: $0)
        }
        if !service.identities.isEmpty && service.mtls == false {
            reader.problem("\(path).identities", "identities are checked only under mutual TLS (mtls: false)")
        }
        if let node = fields["healthCheck"] {
            service.healthCheck = readHealthCheck(node, at: "\(path).healthCheck", &reader)
        }
        return service
    }

    /// `healthCheck`: exactly one of `http`, `tcp`, `grpc`, with its timing and thresholds.
    private static func readHealthCheck(_ node: Node, at path: String, _ reader: inout NodeReader)
        -> ServiceHealthCheck?
    {
        let keys = ["http", "tcp", "grpc", "interval", "timeout", "unhealthyThreshold", "healthyThreshold"]
        guard let fields = reader.mapping(node, at: path, keys: keys) else { return nil }
        let kinds = ["http", "tcp", "grpc"].filter { fields[$0] != nil }
        guard kinds.count == 1 else {
            reader.problem(path, "needs exactly one of http, tcp, grpc (found \(kinds.count))")
            return nil
        }
        let check: HealthCheck
        switch kinds[0] {
        case "http":
            let httpPath = "\(path).http"
            guard let http = reader.mapping(fields["http"]!, at: httpPath, keys: ["path", "expectedStatuses"]) else {
                return nil
            }
            let requestPath = http["path"].flatMap { reader.scalar($0, at: "\(httpPath).path") } ?? "/"
            if let problem = HTTPHealthCheck.problem(path: requestPath) { reader.problem("\(httpPath).path", problem) }
            var statuses = reader.values(http["expectedStatuses"], at: "\(httpPath).expectedStatuses") { text in
                try Self.statusRange(text)
            }
            if http["expectedStatuses"] == nil {
                statuses = ServiceHealthCheck.defaultStatuses
            } else if statuses.isEmpty {
                reader.problem("\(httpPath).expectedStatuses", "an empty list would take no answer for healthy")
            }
            check = .http(HTTPHealthCheck(path: requestPath, expectedStatuses: statuses))
        case "tcp":
            _ = reader.mapping(fields["tcp"]!, at: "\(path).tcp", keys: [])
            check = .tcp
        default:
            let grpc = reader.mapping(fields["grpc"]!, at: "\(path).grpc", keys: ["service"]) ?? [:]
            check = .grpc(service: grpc["service"].flatMap { reader.scalar($0, at: "\(path).grpc.service") } ?? "")
        }
        var healthCheck = ServiceHealthCheck(check: check)
        func duration(_ key: String, _ range: ClosedRange<Duration>, _ bounds: String) -> Duration? {
            fields[key].flatMap { node in
                reader.parse(node, at: "\(path).\(key)") { text in
                    let value = try DurationText.parse(text)
                    guard range.contains(value) else { throw NodeReader.Invalid("'\(text)' is not between \(bounds)") }
                    return value
                }
            }
        }
        healthCheck.interval = duration("interval", .seconds(1)...(.seconds(3600)), "1s and 1h") ?? healthCheck.interval
        healthCheck.timeout =
            duration("timeout", .milliseconds(10)...(.seconds(60)), "10ms and 60s") ?? healthCheck.timeout
        for (key, keyPath) in [
            (\ServiceHealthCheck.unhealthyThreshold, "unhealthyThreshold"), (\.healthyThreshold, "healthyThreshold"),
        ] {
            if let node = fields[keyPath] {
                healthCheck[keyPath: key] =
                    reader.wholeNumber(node, at: "\(path).\(keyPath)", in: 1...100) ?? healthCheck[keyPath: key]
            }
        }
        if healthCheck.timeout >= healthCheck.interval {
            reader.problem("\(path).timeout", "must be shorter than the interval, or checks would overlap")
        }
        return healthCheck
    }

    /// `200` or `200-299`.
    private static func statusRange(_ text: String) throws -> ClosedRange<Int> {
        let bounds = text.split(separator: "-", maxSplits: 1, omittingEmptySubsequences: false).map { Int($0) }
        guard let low = bounds.first ?? nil, let high = bounds.last ?? nil, (100...599).contains(low),
            (low...599).contains(high)
        else {
            throw NodeReader.Invalid("'\(text)' is not a status from 100 to 599 or a range like 200-299")
        }
        return low...high
    }

    private static func readOutlierDetection(_ node: Node, at path: String, _ reader: inout NodeReader)
        -> ServiceDefinition.OutlierDetection?
    {
        guard let fields = reader.mapping(node, at: path, keys: ["consecutiveFailures", "ejectionTime"]) else {
            return nil
        }
        var detection = ServiceDefinition.OutlierDetection()
        if let node = fields["consecutiveFailures"] {
            detection.consecutiveFailures =
                reader.wholeNumber(node, at: "\(path).consecutiveFailures", in: 1...1000)
                ?? detection.consecutiveFailures
        }
        if let node = fields["ejectionTime"] {
            detection.ejectionTime =
                reader.parse(node, at: "\(path).ejectionTime") { text in
                    let value = try DurationText.parse(text)
                    guard value >= .milliseconds(100), value <= .seconds(3600) else {
                        throw NodeReader.Invalid("'\(text)' is not between 100ms and 1h")
                    }
                    return value
                } ?? detection.ejectionTime
        }
        return detection
    }

    /// Health checks are plaintext: against endpoints that run the sidecar, an HTTP or gRPC check would meet a
    /// strict port's refusal, and a TCP check the proxy that accepts every captured connection (always passing).
    static func checkHealthChecksArePlaintext(_ configuration: ProxyConfiguration, _ reader: inout NodeReader) {
        for (index, service) in configuration.services.enumerated()
        where service.healthCheck != nil && configuration.isMeshed(service) {
            reader.problem(
                "services[\(index)].healthCheck",
                "health checks are plaintext, and this service's endpoints are under mutual TLS (mtls: true, or all "
                    + "in mtls.meshCidrs)")
        }
    }

    /// Two services on one address could not both be dialed.
    static func checkServiceAddresses(_ services: [ServiceDefinition], _ reader: inout NodeReader) {
        var seen: [String: String] = [:]
        for (index, service) in services.enumerated() {
            let address = service.addressDescription
            if let other = seen[address] {
                reader.problem("services[\(index)].address", "\(address) is already the address of service \(other)")
            }
            seen[address] = service.name
        }
    }
}
