import Foundation

/// The app's original probes, by container and kind: what `sidecar-inject` hands the proxy in one environment
/// variable, `SIDECAR_APP_PROBES`, as JSON: `{"app":{"livez":{"httpGet":{"path":"/healthz","port":8080}}}}`.
public struct AppProbes: Sendable, Equatable, Codable {
    public static let environmentVariable = "SIDECAR_APP_PROBES"

    public var containers: [String: [AppProbeKind: AppProbe]]

    public init(containers: [String: [AppProbeKind: AppProbe]] = [:]) {
        self.containers = containers
    }

    public init(from decoder: any Decoder) throws {
        containers = try decoder.singleValueContainer().decode([String: [AppProbeKind: AppProbe]].self)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(containers)
    }

    /// Where the kubelet asks for this probe on the telemetry port.
    public static func path(container: String, kind: AppProbeKind) -> String {
        "/app-health/\(container)/\(kind.rawValue)"
    }

    /// Compact JSON with sorted keys, so the same probes always read the same (injecting twice changes nothing).
    public func json() -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // Every field is a string, a number or a list of them: encoding cannot fail.
        return String(decoding: (try? encoder.encode(self)) ?? Data("{}".utf8), as: UTF8.self)
    }

    /// Reads and checks the variable's value; every problem is named with where it is.
    public static func parse(_ text: String) throws(AppProbesError) -> AppProbes {
        let probes: AppProbes
        do {
            probes = try JSONDecoder().decode(AppProbes.self, from: Data(text.utf8))
        } catch {
            throw AppProbesError(problems: ["not the JSON of app probes: \(error)"])
        }
        let problems = probes.problems()
        guard problems.isEmpty else { throw AppProbesError(problems: problems) }
        return probes
    }

    /// What makes a probe impossible to run, by `container.kind`.
    public func problems() -> [String] {
        var problems: [String] = []
        for (container, probes) in containers.sorted(by: { $0.key < $1.key }) {
            if !KubernetesName.isLabel(container) {
                problems.append("'\(container)' is not a container name (a DNS label): it cannot be a path segment")
            }
            for (kind, probe) in probes.sorted(by: { $0.key.rawValue < $1.key.rawValue }) {
                problems += probe.problems().map { "\(container).\(kind.rawValue): \($0)" }
            }
        }
        return problems
    }
}

extension AppProbe {
    /// Exactly one handler, ports and timeouts in range, an absolute path, a known scheme, header names that are
    /// tokens and values without line breaks.
    func problems() -> [String] {
        var problems: [String] = []
        let handlers = [httpGet != nil, tcpSocket != nil, grpc != nil].filter { $0 }.count
        if handlers != 1 { problems.append("needs exactly one of httpGet, tcpSocket, grpc (found \(handlers))") }
        for port in [httpGet?.port, tcpSocket?.port, grpc?.port].compactMap({ $0 }) where !(1...65535).contains(port) {
            problems.append("port \(port) is not from 1 to 65535")
        }
        if let timeoutSeconds, !(1...3600).contains(timeoutSeconds) {
            problems.append("timeoutSeconds \(timeoutSeconds) is not from 1 to 3600")
        }
        if let httpGet {
            if let path = httpGet.path, let problem = HTTPHealthCheck.problem(path: path) {
                problems.append("path \(problem)")
            }
            if let scheme = httpGet.scheme, scheme != "HTTP", scheme != "HTTPS" {
                problems.append("scheme '\(scheme)' is neither HTTP nor HTTPS")
            }
            for header in httpGet.httpHeaders ?? [] {
                if !ASCII.isToken(header.name) {
                    problems.append("header name '\(header.name)' is not a token")
                }
                if header.value.utf8.contains(where: { $0 == 0x0D || $0 == 0x0A || $0 == 0 }) {
                    problems.append("header \(header.name)'s value holds a line break")
                }
            }
        }
        return problems
    }
}
