import Policy
import Yams

/// Hands each app container's HTTP, TCP and gRPC probes to the proxy: the kubelet is pointed at
/// `GET :15020/app-health/CONTAINER/livez|readyz|startupz`, and the original checks go into `AppProbes` for the proxy
/// to run against the app. Behind the sidecar a kubelet probe would otherwise meet the proxy, not the app (a TCP
/// probe always passes), or be refused by strict mutual TLS. `exec` probes run in the container and stay.
struct AppProbeRewriter {
    private(set) var probes = AppProbes()
    private(set) var problems: [String] = []

    /// The container with its probes pointed at the proxy.
    mutating func rewrite(container: Node, at path: String) -> Node {
        guard let name = container["name"]?.string else {
            problems.append("\(path).name: a container needs a name")
            return container
        }
        var rewritten = container
        for kind in AppProbeKind.allCases {
            guard let probe = container[kind.containerField], probe.mapping != nil else { continue }
            let probePath = "\(path).\(kind.containerField)"
            guard let original = appProbe(probe, of: container, at: probePath) else { continue }
            probes.containers[name, default: [:]][kind] = original
            rewritten[kind.containerField] = pointedAtProxy(probe, path: AppProbes.path(container: name, kind: kind))
        }
        return rewritten
    }

    /// The probe's check as the proxy will run it; nil for `exec` probes and for problems (recorded).
    private mutating func appProbe(_ probe: Node, of container: Node, at path: String) -> AppProbe? {
        let handlers = Self.handlers.filter { probe[$0] != nil } + (probe["exec"] != nil ? ["exec"] : [])
        guard handlers.count <= 1 else {
            problems.append("\(path): a probe takes one handler, not \(handlers.joined(separator: " and "))")
            return nil
        }
        let timeout = probe["timeoutSeconds"].flatMap(\.int)
        if let http = probe["httpGet"] {
            guard let port = port(http["port"], of: container, at: "\(path).httpGet.port") else { return nil }
            let headers = http["httpHeaders"]?.sequence?.map { header in
                AppProbe.HTTPHeader(name: header["name"]?.string ?? "", value: header["value"]?.string ?? "")
            }
            // The kubelet puts a path without its leading slash after the host all the same.
            let requestPath = http["path"]?.string.map { $0.hasPrefix("/") ? $0 : "/" + $0 }
            return AppProbe(
                httpGet: .init(
                    path: requestPath, port: port, host: http["host"]?.string, scheme: http["scheme"]?.string,
                    httpHeaders: headers),
                timeoutSeconds: timeout)
        }
        if let tcp = probe["tcpSocket"] {
            guard let port = port(tcp["port"], of: container, at: "\(path).tcpSocket.port") else { return nil }
            return AppProbe(tcpSocket: .init(port: port, host: tcp["host"]?.string), timeoutSeconds: timeout)
        }
        if let grpc = probe["grpc"] {
            guard let port = grpc["port"]?.int else {
                problems.append("\(path).grpc.port: a gRPC probe needs a port number")
                return nil
            }
            return AppProbe(grpc: .init(port: port, service: grpc["service"]?.string), timeoutSeconds: timeout)
        }
        return nil
    }

    /// A port number, or a name the container's `ports` give a number.
    private mutating func port(_ node: Node?, of container: Node, at path: String) -> Int? {
        guard let node, let text = node.scalarText else {
            problems.append("\(path): a probe needs a port")
            return nil
        }
        if let number = node.int { return number }
        let named = container["ports"]?.sequence?.first { $0["name"]?.string == text }
        guard let number = named?["containerPort"]?.int else {
            problems.append("\(path): '\(text)' names no port of this container")
            return nil
        }
        return number
    }

    /// The handlers the proxy takes over.
    private static let handlers = ["httpGet", "tcpSocket", "grpc"]

    /// The probe with its handler replaced in place by a GET to the proxy; timings and thresholds stay.
    private func pointedAtProxy(_ probe: Node, path: String) -> Node {
        let proxyCheck = Node.map(["path": .text(path), "port": .number(SidecarTemplate.telemetryPort)])
        var pairs: [(Node, Node)] = []
        for (key, value) in probe.mapping ?? [:] {
            pairs.append(Self.handlers.contains(key.string ?? "") ? (.text("httpGet"), proxyCheck) : (key, value))
        }
        return Node(pairs, Tag(.map))
    }
}
