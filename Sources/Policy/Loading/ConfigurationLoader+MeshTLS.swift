import Interception
import Yams

extension ConfigurationLoader {
    /// `mtls:`: the mode, per-port modes, the mesh's networks, the plaintext probes, whether the caller is named
    /// to the app, and whether HTTP/1.1 to the mesh shares connections.
    static func readMeshTLS(_ node: Node, _ reader: inout NodeReader) -> MeshTLS {
        var mtls = MeshTLS()
        let keys = ["mode", "ports", "meshCidrs", "probes", "forwardClientCert", "shareConnections"]
        guard let fields = reader.mapping(node, at: "mtls", keys: keys) else { return mtls }
        if let node = fields["shareConnections"] {
            mtls.shareConnections = reader.boolean(node, at: "mtls.shareConnections") ?? false
        }
        if let node = fields["forwardClientCert"] {
            mtls.forwardClientCert = reader.boolean(node, at: "mtls.forwardClientCert") ?? false
        }
        if let node = fields["mode"] { mtls.mode = meshMode(node, at: "mtls.mode", &reader) ?? mtls.mode }
        if let node = fields["ports"], let ports = reader.mapping(node, at: "mtls.ports", keys: nil) {
            for (key, node) in ports {
                guard let port = UInt16(key), port > 0 else {
                    reader.problem("mtls.ports", "'\(key)' is not a port (1 to 65535)")
                    continue
                }
                mtls.ports[port] = meshMode(node, at: "mtls.ports.\(key)", &reader)
            }
        }
        mtls.meshCidrs = reader.values(fields["meshCidrs"], at: "mtls.meshCidrs") { try IPNetwork(parsing: $0) }
        if let node = fields["probes"] {
            mtls.probes = reader.list(node, at: "mtls.probes").compactMap { item, path in
                readProbe(item, at: path, &reader)
            }
        }
        return mtls
    }

    /// Mutual TLS needs an identity to present: settings that would originate or require it are refused without
    /// one, rather than silently left plaintext.
    static func checkMeshNeedsIdentity(_ configuration: ProxyConfiguration, _ reader: inout NodeReader) {
        let needs = "needs identity: (the workload's certificate, key and trust bundle)"
        if configuration.mtls.hasStrictPort { reader.problem("mtls", "a strict port \(needs)") }
        if !configuration.mtls.meshCidrs.isEmpty { reader.problem("mtls.meshCidrs", "mutual TLS \(needs)") }
        for (index, service) in configuration.services.enumerated() where service.mtls == true {
            reader.problem("services[\(index)].mtls", "mutual TLS \(needs)")
        }
    }

    private static func meshMode(_ node: Node, at path: String, _ reader: inout NodeReader) -> MeshTLSMode? {
        reader.parse(node, at: path) { text in
            guard let mode = MeshTLSMode(rawValue: text) else {
                let known = MeshTLSMode.allCases.map(\.rawValue).joined(separator: ", ")
                throw NodeReader.Invalid("'\(text)' is not one of \(known)")
            }
            return mode
        }
    }

    private static func readProbe(_ node: Node, at path: String, _ reader: inout NodeReader) -> MeshProbe? {
        guard let fields = reader.mapping(node, at: path, keys: ["port", "path"]) else { return nil }
        for key in ["port", "path"] where fields[key] == nil { reader.problem(path, "a probe needs \(key)") }
        let port = fields["port"].flatMap { reader.wholeNumber($0, at: "\(path).port", in: 1...65535) }
        let probePath = fields["path"].flatMap { requestPath($0, at: "\(path).path", &reader) }
        guard let port, let probePath else { return nil }
        return MeshProbe(port: UInt16(port), path: probePath)
    }
}
