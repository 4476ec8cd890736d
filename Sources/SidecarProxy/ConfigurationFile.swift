import Foundation
import Policy
import SidecarCLI

/// Where `run` and `check` read the proxy's configuration.
enum ConfigurationFile {
    /// The file `run` reads when none is named; without it, the built-in defaults serve.
    static let defaultPath = "/etc/sidecar/sidecar.yaml"

    /// The configuration in `path`, or the defaults when `path` is the default location and nothing is there.
    /// A named file that is missing, unreadable or invalid is bad input: exit 2, with every problem listed.
    static func load(path: String?) throws(CommandFailure) -> ProxyConfiguration {
        let location = path ?? defaultPath
        guard path != nil || FileManager.default.fileExists(atPath: location) else { return ProxyConfiguration() }
        let text: String
        do {
            text = try String(contentsOfFile: location, encoding: .utf8)
        } catch {
            throw .badInput("\(location): cannot read: \(error.localizedDescription)")
        }
        switch ConfigurationLoader.load(yaml: text) {
        case .success(let configuration): return configuration
        case .failure(let error):
            throw .badInput(
                "\(location): invalid configuration\n" + error.problems.map { "  \($0)" }.joined(separator: "\n"))
        }
    }
}
