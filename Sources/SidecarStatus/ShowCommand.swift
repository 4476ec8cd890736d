import ArgumentParser
import Foundation
import NIOCore
import NIOPosix
import Netfilter
import SidecarCLI
import Telemetry

/// `sidecar-status` (its default subcommand): is interception installed, and is the proxy ready?
struct ShowCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "Show whether interception is installed and whether the proxy is ready (the default).",
        discussion: "Exit codes: 0 healthy, 1 degraded (the output says which part), 2 bad usage.")

    @Option(help: "The proxy's admin address (host:port).")
    var admin = "127.0.0.1:15000"

    @OptionGroup var namespace: NamespaceOption
    @OptionGroup var tableOption: TableOption

    @Flag(help: "Print JSON instead of a summary.")
    var json = false

    func run() throws {
        let (adminHost, adminPort) = try Self.parseHostPort(admin)
        // Before any thread or socket exists: both the netlink socket and the HTTP probe must live in the pod.
        try namespace.enter()
        let report = StatusReport(
            interception: readInterception(), proxy: probeProxy(host: adminHost, port: adminPort))
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: try encoder.encode(report), as: UTF8.self))
        } else {
            let colour = isatty(STDOUT_FILENO) == 1 && ProcessInfo.processInfo.environment["NO_COLOR"] == nil
            print(StatusText.render(report, colour: colour), terminator: "")
        }
        if !report.isHealthy { throw ExitCode(ExitStatus.failure.rawValue) }
    }

    private var table: String { tableOption.name }

    private func readInterception() -> StatusReport.Interception {
        do {
            let connection = try NftablesConnection()
            let installed = try connection.table(named: table)
            let warnings =
                installed.map {
                    (try? ConflictReport.findings(for: StatusReport.Interception.hooks(of: $0), connection: connection))
                        ?? []
                } ?? []
            return StatusReport.Interception(table: table, readBack: installed, warnings: warnings)
        } catch {
            return StatusReport.Interception(
                table: table, installed: false, matchesPlan: nil, error: "\(error)", chains: [])
        }
    }

    private func probeProxy(host: String, port: Int) -> StatusReport.Proxy {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        defer { try? group.syncShutdownGracefully() }
        do {
            let answer = try HTTPProbe.get(host: host, port: port, path: "/ready", timeout: .seconds(2), group: group)
                .wait()
            let ready = answer.status == .ok
            let stats = try? HTTPProbe.get(host: host, port: port, path: "/stats", timeout: .seconds(2), group: group)
                .wait()
            let services = try? HTTPProbe.get(
                host: host, port: port, path: "/services", timeout: .seconds(2), group: group
            ).wait()
            let intrusion = try? HTTPProbe.get(host: host, port: port, path: "/ids", timeout: .seconds(2), group: group)
                .wait()
            return StatusReport.Proxy(
                admin: admin, ready: ready, detail: ready ? nil : "answered \(answer.status.code) \(answer.body)",
                stats: stats.flatMap { try? JSONDecoder().decode(ProxyStats.self, from: Data($0.body.utf8)) },
                services: services.flatMap {
                    try? JSONDecoder().decode([ServiceSnapshot].self, from: Data($0.body.utf8))
                },
                intrusion: intrusion.flatMap {
                    try? JSONDecoder().decode(IntrusionSnapshot.self, from: Data($0.body.utf8))
                })
        } catch {
            return StatusReport.Proxy(admin: admin, ready: false, detail: "unreachable: \(error)")
        }
    }

    static func parseHostPort(_ text: String) throws -> (String, Int) {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]),
            (1...65535).contains(port)
        else {
            throw ValidationError("--admin '\(text)': expected host:port, e.g. 127.0.0.1:15000")
        }
        let host = text[..<colon].trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
        return (host, port)
    }
}
