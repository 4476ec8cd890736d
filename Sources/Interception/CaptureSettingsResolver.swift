/// Merges capture settings from their sources, highest precedence last (defaults < file < environment < flags), and
/// remembers where each effective value came from, for `plan`'s header.
public struct CaptureSettingsResolver: Sendable {
    /// Where settings come from, lowest precedence first.
    public enum Source: Sendable, Hashable, CustomStringConvertible {
        case configFile(path: String)
        case environment
        case flags
        /// A pod's annotations, read by `sidecar-inject`.
        case annotations

        public var description: String {
            switch self {
            case .configFile(let path): "config file \(path)"
            case .environment: "environment"
            case .flags: "flags"
            case .annotations: "pod annotations"
            }
        }

        /// The setting as the operator wrote it in this source.
        func name(of setting: CaptureSetting) -> String {
            switch self {
            case .configFile: setting.key
            case .environment: setting.environmentVariable
            case .flags: "--\(setting.flag)"
            case .annotations: setting.annotation
            }
        }
    }

    /// The settings one source gave, as text.
    public struct Layer: Sendable {
        public let source: Source
        public let values: [CaptureSetting: String]

        public init(source: Source, values: [CaptureSetting: String]) {
            self.source = source
            self.values = values
        }
    }

    public let layers: [Layer]

    public init(layers: [Layer]) {
        self.layers = layers
    }

    /// The effective settings and where each came from; or every problem, each naming its source, setting and value.
    public func resolve() -> Result<(config: InterceptionConfig, sources: [CaptureSetting: Source]), Problems> {
        var config = InterceptionConfig()
        var sources: [CaptureSetting: Source] = [:]
        var problems: [String] = []
        for layer in layers {
            for setting in CaptureSetting.allCases {
                guard let text = layer.values[setting] else { continue }
                do {
                    try setting.apply(text, to: &config)
                    sources[setting] = layer.source
                } catch {
                    problems.append("\(layer.source): \(layer.source.name(of: setting)): \(error)")
                }
            }
        }
        problems += config.validationErrors()
        return problems.isEmpty ? .success((config, sources)) : .failure(Problems(messages: problems))
    }

    /// Every reason the settings were rejected.
    public struct Problems: Error, CustomStringConvertible {
        public let messages: [String]
        public var description: String { messages.joined(separator: "\n") }
    }
}
