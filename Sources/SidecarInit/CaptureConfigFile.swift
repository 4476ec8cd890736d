import Foundation
import Interception
import SidecarCLI
import Yams

/// Reads capture settings from a YAML file: a mapping of camelCase keys to a value or a list
/// (`excludeOutboundPorts: [7002, 8000-8999]`). Unknown keys and nested values are errors naming their key.
enum CaptureConfigFile {
    static func load(path: String) throws(CommandFailure) -> CaptureSettingsResolver.Layer {
        let source = CaptureSettingsResolver.Source.configFile(path: path)
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw .badInput("\(source): cannot read: \(error.localizedDescription)")
        }
        let document: Any?
        do {
            document = try Yams.load(yaml: text)
        } catch {
            throw .badInput("\(source): not valid YAML: \(error)")
        }
        guard let document else { return CaptureSettingsResolver.Layer(source: source, values: [:]) }
        guard let mapping = document as? [String: Any] else {
            throw .badInput("\(source): expected a mapping of settings (e.g. excludeOutboundPorts: [7002])")
        }
        var values: [CaptureSetting: String] = [:]
        var problems: [String] = []
        for (key, value) in mapping.sorted(by: { $0.key < $1.key }) {
            guard let setting = CaptureSetting(rawValue: key) else {
                problems.append("\(source): \(key): not a capture setting")
                continue
            }
            switch value {
            case let list as [Any]:
                let items = list.map(scalarText)
                if let index = items.firstIndex(of: nil) {
                    problems.append("\(source): \(key)[\(index)]: expected a single value")
                } else {
                    values[setting] = items.compactMap { $0 }.joined(separator: ",")
                }
            default:
                if let text = scalarText(value) {
                    values[setting] = text
                } else {
                    problems.append("\(source): \(key): expected a value or a list of values")
                }
            }
        }
        if !problems.isEmpty {
            let known = CaptureSetting.allCases.map(\.key).joined(separator: ", ")
            throw .badInput(problems.joined(separator: "\n") + "\n(settings: \(known))")
        }
        return CaptureSettingsResolver.Layer(source: source, values: values)
    }

    /// A YAML scalar in the flag's text form; nil for a mapping, a list or null.
    private static func scalarText(_ value: Any) -> String? {
        switch value {
        case let text as String: text
        case let flag as Bool: flag ? "true" : "false"
        case let number as Int: String(number)
        default: nil
        }
    }
}
