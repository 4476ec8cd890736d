import Foundation
import Interception
import Yams

/// Reads capture settings from a YAML file: a mapping of camelCase keys to a value or a list
/// (`excludeOutboundPorts: [7002, 8000-8999]`). Values are taken as written, never through YAML's type guessing
/// (which would read `0755` as 493 or `off` as false). Unknown keys and nested values are errors naming their path.
enum CaptureConfigFile {
    static func load(path: String) throws(CommandFailure) -> CaptureSettingsResolver.Layer {
        let source = CaptureSettingsResolver.Source.configFile(path: path)
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw .badInput("\(source): cannot read: \(error.localizedDescription)")
        }
        let document: Node?
        do {
            document = try Yams.compose(yaml: text)
        } catch {
            throw .badInput("\(source): not valid YAML (quote values with ':' such as IPv6 CIDRs): \(error)")
        }
        guard let document else { return CaptureSettingsResolver.Layer(source: source, values: [:]) }
        guard let mapping = document.mapping else {
            throw .badInput("\(source): expected a mapping of settings (e.g. excludeOutboundPorts: [7002])")
        }
        var values: [CaptureSetting: String] = [:]
        var problems: [String] = []
        for (keyNode, value) in mapping {
            let key = keyNode.string ?? "\(keyNode)"
            guard let setting = CaptureSetting(rawValue: key) else {
                problems.append("\(source): \(key): not a capture setting")
                continue
            }
            if let scalar = value.scalar {
                values[setting] = scalar.string
            } else if let list = value.sequence {
                let items = list.map(\.scalar?.string)
                if let index = items.firstIndex(of: nil) {
                    problems.append(
                        "\(source): \(key)[\(index)]: expected a single value, found a \(kind(list[index]))")
                } else {
                    values[setting] = items.compactMap { $0 }.joined(separator: ",")
                }
            } else {
                problems.append("\(source): \(key): expected a value or a list of values, found a \(kind(value))")
            }
        }
        if !problems.isEmpty {
            let known = CaptureSetting.allCases.map(\.key).joined(separator: ", ")
            throw .badInput(problems.joined(separator: "\n") + "\n(settings: \(known))")
        }
        return CaptureSettingsResolver.Layer(source: source, values: values)
    }

    private static func kind(_ node: Node) -> String {
        switch node {
        case .mapping: "mapping"
        case .sequence: "list"
        default: "value"
        }
    }
}
