import ArgumentParser
import Foundation
import Identity
import Interception
import NIOPosix
import Netfilter
import SidecarCLI
import Telemetry

/// `sidecar-status explain tcp HOST:PORT`: would the app's connection (or, with `--inbound`, a connection into the
/// pod, from a caller with the identity `--from` names) be captured, by which rule, and what would the policy in force
/// and mutual TLS decide? Sends no packet: the capture part walks the plan for the given settings (and says whether
/// that plan is the one installed), the policy part asks the running proxy.
struct ExplainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "explain",
        abstract: "Explain how a connection, the app's or one into the pod, would be captured and decided.",
        discussion: """
            Capture settings are read as sidecar-init reads them (flags, SIDECAR_* variables, --config); give the \
            ones the pod was installed with. Exit 0 once explained, 2 bad usage.
            """)

    @Argument(help: "The transport: tcp.")
    var transport: String

    @Argument(
        help:
            "The destination the app dials (or, with --inbound, the pod's address and port): IPv4:PORT or [IPv6]:PORT.")
    var destination: String

    @Flag(help: "Explain a connection into the pod rather than one the app opens.")
    var inbound = false

    @Option(help: "With --inbound: the caller's address.")
    var source: String?

    @Option(name: .customLong("from"), help: "With --inbound: the caller's SPIFFE ID, as its mutual TLS presents it.")
    var from: String?

    @Option(help: "The uid the app runs as.")
    var uid: UInt32 = 1000

    @Option(help: "The gid the app runs as. (default: the uid)")
    var gid: UInt32?

    @Option(
        help:
            "The interface the connection leaves by (with --inbound: arrives by). (default: lo for loopback addresses, else eth0)"
    )
    var interface: String?

    @Option(help: "The proxy's admin address (host:port).")
    var admin = "127.0.0.1:15000"

    @OptionGroup var capture: CaptureOptions
    @OptionGroup var namespace: NamespaceOption

    @Flag(help: "Print JSON instead of sentences.")
    var json = false

    /// What `--json` prints.
    struct Explanation: Codable {
        var direction: String
        var destination: String
        /// The app's uid; nil inbound.
        var uid: UInt32?
        var source: String?
        /// The caller's identity the policy was asked about (inbound).
        var from: String?
        var captured: Bool
        /// Refused with a reset by the capture table (the admin port, from a uid that may not use it).
        var rejected: Bool
        var redirectPort: UInt16?
        /// The comment of the rule that decided; nil when none matched.
        var captureRule: String?
        /// Whether the installed table is the plan for these settings, unchanged; nil when absent or unreadable.
        var planInstalled: Bool?
        /// The proxy's answer, when captured and the proxy answered.
        var policy: PolicyExplanation?
        var policyError: String?
    }

    func validate() throws {
        guard transport == "tcp" else { throw ValidationError("only tcp connections can be explained") }
        guard IPNetwork.endpoint(parsing: destination) != nil else {
            throw ValidationError("'\(destination)': expected IPv4:PORT or [IPv6]:PORT, e.g. 10.0.0.5:443")
        }
        guard inbound || (source == nil && from == nil) else {
            throw ValidationError("--source and --from describe a caller: only with --inbound")
        }
        if let source, (try? IPNetwork(parsing: source)) == nil {
            throw ValidationError("--source '\(source)': expected an IP address")
        }
        if let from {
            do {
                _ = try SPIFFEID(parsing: from)
            } catch {
                throw ValidationError("--from '\(from)': \(error)")
            }
        }
    }

    func run() throws {
        guard let (address, port) = IPNetwork.endpoint(parsing: destination) else {
            throw ExitCode(ExitStatus.badInput.rawValue)
        }
        let plan = InterceptionPlanner.ruleset(for: try capture.config())
        let (adminHost, adminPort) = try ShowCommand.parseHostPort(admin)
        try namespace.enter()
        let loopback = IPNetwork.ipv4Loopback.contains(address) || IPNetwork.ipv6Loopback.contains(address)
        let connection =
            inbound
            ? CaptureExplainer.Connection(
                inboundTo: address, port: port, from: source.flatMap { try? IPNetwork(parsing: $0) },
                inputInterface: interface ?? "eth0")
            : CaptureExplainer.Connection(
                destination: address, port: port, uid: uid, gid: gid ?? uid,
                outputInterface: interface ?? (loopback ? "lo" : "eth0"))
        let verdict = CaptureExplainer.explain(plan, connection)
        var explanation = Explanation(
            direction: inbound ? "inbound" : "outbound", destination: destination, uid: inbound ? nil : uid,
            source: source, from: from, captured: verdict.isCaptured, rejected: verdict.isRejected,
            redirectPort: verdict.redirectPort, captureRule: verdict.rule, planInstalled: planInstalled(plan))
        if verdict.isCaptured {
            do {
                explanation.policy = try askProxy(host: adminHost, port: adminPort)
            } catch {
                explanation.policyError = "\(error)"
            }
        }
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: try encoder.encode(explanation), as: UTF8.self))
        } else {
            print(Self.sentences(explanation), terminator: "")
        }
    }

    private func planInstalled(_ plan: Ruleset) -> Bool? {
        guard let table = try? NftablesConnection().table(named: plan.table) else { return nil }
        return table.comment == RulesetFingerprint.tableComment(for: plan) && table.matchesRecordedPlan == true
    }

    private func askProxy(host: String, port: Int) throws -> PolicyExplanation {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        defer { try? group.syncShutdownGracefully() }
        let parameters = [
            ("destination", destination), ("direction", inbound ? "inbound" : "outbound"), ("source", source),
            ("peer", from),
        ]
        let query = parameters.compactMap { name, value in
            value.map { "\(name)=" + ($0.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "") }
        }.joined(separator: "&")
        let answer = try HTTPProbe.get(
            host: host, port: port, path: "/explain?\(query)", timeout: .seconds(2), group: group
        ).wait()
        guard answer.status == .ok else {
            throw CommandFailure(.failure, "the proxy answered \(answer.status.code): \(answer.body)")
        }
        return try JSONDecoder().decode(PolicyExplanation.self, from: Data(answer.body.utf8))
    }

    static func sentences(_ explanation: Explanation) -> String {
        var lines: [String] = []
        let who =
            explanation.uid.map { "tcp to \(explanation.destination) as uid \($0)" }
            ?? "inbound tcp to \(explanation.destination)" + (explanation.source.map { " from \($0)" } ?? "")
            + (explanation.from.map { " (caller \($0))" } ?? "")
        if explanation.rejected {
            lines.append("capture: \(who) is refused with a reset by rule '\(explanation.captureRule ?? "?")'")
        } else if let port = explanation.redirectPort {
            lines.append(
                "capture: \(who) is redirected to the proxy (port \(port)) by rule '\(explanation.captureRule ?? "?")'")
        } else if let rule = explanation.captureRule {
            lines.append("capture: \(who) is not captured: rule '\(rule)' lets it pass; policy does not apply")
        } else {
            lines.append("capture: \(who) is not captured: no rule matches; policy does not apply")
        }
        switch explanation.planInstalled {
        case true?: lines.append("  (the installed table is the plan for these settings)")
        case false?:
            lines.append("  WARNING: the installed table is not the plan for these settings (other settings, or drift)")
        case nil: lines.append("  WARNING: no table is installed for these settings")
        }
        if let policy = explanation.policy {
            let rule = policy.ruleIndex.map { "rule \(policy.rule) (rules[\($0)])" } ?? "the default"
            lines.append(
                "policy: \(policy.action) by \(rule), configuration generation \(policy.configGeneration)")
            for (name, addresses) in (policy.names ?? [:]).sorted(by: { $0.key < $1.key }) {
                lines.append(
                    "  an allow by name '\(name)' admits only its addresses: "
                        + (addresses.isEmpty ? "none known now" : addresses.joined(separator: ", ")))
            }
            if let mtls = policy.mtls { lines.append(meshSentence(mtls, explanation)) }
            if policy.inspectsFirstBytes {
                lines.append(
                    "  the first bytes decide (an SNI or HTTP rule, a limit on requests or a service is in reach); the above holds if they are neither TLS nor HTTP"
                )
            }
        } else if let error = explanation.policyError {
            lines.append("policy: unknown (the proxy did not answer: \(error))")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// What mutual TLS does with the connection, in words.
    private static func meshSentence(_ mtls: String, _ explanation: Explanation) -> String {
        let port = explanation.destination.split(separator: ":").last.map(String.init) ?? "?"
        switch mtls {
        case "strict" where explanation.from == nil:
            return "mutual TLS: port \(port) is strict: only a sidecar's mutual TLS (and the declared probes) gets in;"
                + " --from SPIFFE-ID shows what the policy decides for such a caller"
        case "strict": return "mutual TLS: port \(port) is strict: the caller's mutual TLS is terminated here"
        case "permissive":
            return "mutual TLS: port \(port) is permissive: a sidecar's mutual TLS is terminated here, the app's own"
                + " TLS and plaintext pass as before"
        case "disable": return "mutual TLS: port \(port) is left out: a sidecar's TLS passes through to the app"
        case "originate": return "mutual TLS: the destination runs the sidecar: the proxy originates mutual TLS to it"
        default: return "mutual TLS: none: the destination is not in the mesh, so what the app sends goes as it is"
        }
    }
}
