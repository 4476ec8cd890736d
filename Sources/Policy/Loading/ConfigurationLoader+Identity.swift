import Yams

extension ConfigurationLoader {
    static func readIdentity(_ node: Node, _ reader: inout NodeReader) -> IdentitySource? {
        let keys = ["directory", "layout", "certificate", "privateKey", "trustBundle"]
        guard let fields = reader.mapping(node, at: "identity", keys: keys) else { return nil }
        func path(_ key: String) -> String? {
            guard let node = fields[key], let text = reader.scalar(node, at: "identity.\(key)") else { return nil }
            guard text.hasPrefix("/") else {
                reader.problem("identity.\(key)", "'\(text)': an absolute path")
                return nil
            }
            return text
        }
        let layouts = IdentitySource.Layout.allCases.map(\.rawValue)
        if fields["directory"] != nil {
            for key in ["certificate", "privateKey", "trustBundle"] where fields[key] != nil {
                reader.problem("identity.\(key)", "either a directory with its layout, or the three paths, not both")
            }
            guard let directory = path("directory") else { return nil }
            guard let node = fields["layout"] else {
                reader.problem(
                    "identity.layout", "missing: which files the directory holds (\(layouts.joined(separator: ", ")))")
                return nil
            }
            guard
                let layout = reader.parse(
                    node, at: "identity.layout",
                    { text in
                        guard let layout = IdentitySource.Layout(rawValue: text) else {
                            throw NodeReader.Invalid("'\(text)' (expected one of: \(layouts.joined(separator: ", ")))")
                        }
                        return layout
                    })
            else { return nil }
            return IdentitySource(directory: directory, layout: layout)
        }
        if fields["layout"] != nil { reader.problem("identity.layout", "only with identity.directory") }
        let certificate = path("certificate")
        let privateKey = path("privateKey")
        let trustBundle = path("trustBundle")
        for key in ["certificate", "privateKey", "trustBundle"] where fields[key] == nil {
            reader.problem("identity.\(key)", "missing: give a directory with its layout, or all three paths")
        }
        guard let certificate, let privateKey, let trustBundle else { return nil }
        return IdentitySource(certificate: certificate, privateKey: privateKey, trustBundle: trustBundle)
    }
}
