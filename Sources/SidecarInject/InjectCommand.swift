import ArgumentParser
import Foundation
import Injection
import SidecarCLI

/// `sidecar-inject -f FILE|-`: the manifests with the sidecar added, on standard output; what was done to each pod
/// template on standard error. A refused object writes nothing and exits 2.
struct InjectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inject", abstract: "Write the manifests of FILE (- for standard input) with the sidecar added.")

    @Option(name: .shortAndLong, help: "Kubernetes YAML to read; - reads standard input.")
    var filename: String

    @OptionGroup var template: TemplateOptions

    @Flag(name: .shortAndLong, help: "Do not report each pod template on standard error.")
    var quiet = false

    func run() throws {
        let data: Data
        do {
            data =
                filename == "-"
                ? FileHandle.standardInput.readDataToEndOfFile() : try Data(contentsOf: URL(fileURLWithPath: filename))
        } catch {
            throw CommandFailure.badInput("cannot read \(filename): \(error.localizedDescription)")
        }
        guard let yaml = String(data: data, encoding: .utf8) else {
            throw CommandFailure.badInput("\(filename) is not UTF-8 text")
        }
        let injected: (yaml: String, reports: [ManifestInjector.Report])
        do {
            injected = try ManifestInjector(template: template.template).inject(yaml: yaml)
        } catch {
            throw CommandFailure.badInput("\(filename): nothing written: \(error)")
        }
        FileHandle.standardOutput.write(Data(injected.yaml.utf8))
        guard !quiet else { return }
        for report in injected.reports {
            ExitCodeContract.printError(
                "sidecar-inject: \(report.object): "
                    + (report.unchangedBecause.map { "unchanged, \($0)" } ?? "injected"))
        }
    }
}
