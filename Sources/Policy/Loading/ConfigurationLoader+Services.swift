import Interception
import Yams

extension ConfigurationLoader {
    /// `services[i]`: a name, a virtual `address`, its `endpoints`, and how they are balanced.
    static func readService(_ node: Node, at path: String, _ reader: inout NodeReader) -> ServiceDefinition? {
        let keys = ["name", "address", "endpoints", "balancer", "outlierDetection", "retries", "mtls", "identities"]
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
        return service
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
