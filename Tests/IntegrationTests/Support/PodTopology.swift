import Foundation
import Synchronization

/// A simulated pod: a `pod` network namespace joined by a veth pair to a `peer` namespace that stands for the rest
/// of the cluster. The peer also owns an `upstream` address on its loopback, reached through the pod's default
/// route, so the original destination differs from the peer's link address. The two namespaces reach nothing else.
final class PodTopology: @unchecked Sendable {
    let pod: String
    let peer: String
    /// The pod's end of the veth pair: its only interface besides `lo`.
    let podLink: String
    let podIPv4 = "10.77.0.2"
    let peerIPv4 = "10.77.0.1"
    let upstreamIPv4 = "10.77.1.5"
    let podIPv6 = "fd00:77::2"
    let peerIPv6 = "fd00:77::1"
    let upstreamIPv6 = "fd00:77:1::5"
    /// The uid the app runs as: anything but the proxy's 1337.
    let appUID = 1000

    private var processes: [BackgroundProcess] = []
    private static let counter = Atomic(0)

    /// Builds the namespaces; `body` runs with them and they are removed afterwards, also when it throws.
    static func with<Result>(_ body: (PodTopology) async throws -> Result) async throws -> Result {
        try requireRoot()
        let topology = try PodTopology()
        defer { topology.tearDown() }
        return try await body(topology)
    }

    private init() throws {
        let id = "\(getpid() % 100_000)x\(Self.counter.add(1, ordering: .relaxed).newValue)"
        pod = "scpod\(id)"
        peer = "scpeer\(id)"
        podLink = "sva\(id)"
        let peerLink = "svb\(id)"
        do {
            try Self.ip("netns", "add", pod)
            try Self.ip("netns", "add", peer)
            try Self.ip("link", "add", podLink, "type", "veth", "peer", "name", peerLink)
            try Self.ip("link", "set", podLink, "netns", pod)
            try Self.ip("link", "set", peerLink, "netns", peer)
            for (namespace, link, v4, v6) in [(pod, podLink, podIPv4, podIPv6), (peer, peerLink, peerIPv4, peerIPv6)] {
                try Self.ip("-n", namespace, "link", "set", "lo", "up")
                try Self.ip("-n", namespace, "addr", "add", "\(v4)/24", "dev", link)
                // nodad: usable at once, instead of after duplicate address detection.
                try Self.ip("-n", namespace, "-6", "addr", "add", "\(v6)/64", "dev", link, "nodad")
                try Self.ip("-n", namespace, "link", "set", link, "up")
            }
            try Self.ip("-n", peer, "addr", "add", "\(upstreamIPv4)/32", "dev", "lo")
            try Self.ip("-n", peer, "-6", "addr", "add", "\(upstreamIPv6)/128", "dev", "lo", "nodad")
            try Self.ip("-n", pod, "route", "add", "default", "via", peerIPv4)
            try Self.ip("-n", pod, "-6", "route", "add", "default", "via", peerIPv6)
        } catch {
            tearDown()
            throw error
        }
    }

    func tearDown() {
        for process in processes { process.stop(signal: SIGKILL) }
        processes = []
        _ = try? Shell.run(["ip", "netns", "del", pod], expectSuccess: false)
        try? FileManager.default.removeItem(atPath: "/etc/netns/\(pod)")
        _ = try? Shell.run(["ip", "netns", "del", peer], expectSuccess: false)
    }

    var podNamespacePath: String { "/run/netns/\(pod)" }
    var peerNamespacePath: String { "/run/netns/\(peer)" }

    /// A command line that runs in the pod as `uid` (the app's by default), with `openFiles` as both its limits on
    /// open files when given (set as root, before the uid changes, so it may exceed the caller's own).
    func inPod(uid: Int? = nil, openFiles: Int? = nil, _ arguments: [String]) -> [String] {
        inNamespace(pod, uid: uid ?? appUID, openFiles: openFiles, arguments)
    }

    /// A command line that runs in the peer as root, or as `uid` (the peer standing for a second pod with its own
    /// sidecar).
    func inPeer(uid: Int? = nil, _ arguments: [String]) -> [String] {
        guard let uid else { return ["ip", "netns", "exec", peer] + arguments }
        return inNamespace(peer, uid: uid, openFiles: nil, arguments)
    }

    private func inNamespace(_ namespace: String, uid: Int, openFiles: Int?, _ arguments: [String]) -> [String] {
        ["ip", "netns", "exec", namespace] + (openFiles.map { ["prlimit", "--nofile=\($0):\($0)"] } ?? [])
            + ["setpriv", "--reuid", "\(uid)", "--regid", "\(uid)", "--clear-groups"] + arguments
    }

    // MARK: The product

    @discardableResult
    func sidecarInit(_ arguments: String...) throws -> CommandResult {
        try sidecarInit(arguments)
    }

    /// Runs `sidecar-init` from the host, aimed at the pod with `--netns`.
    @discardableResult
    func sidecarInit(_ arguments: [String]) throws -> CommandResult {
        try Shell.run([Binaries.sidecarInit] + arguments + ["--netns", podNamespacePath])
    }

    /// Starts the proxy as uid 1337, with `configuration` (YAML) when given, and returns once it reports ready.
    /// - Parameters:
    ///   - openFiles: both limits on the proxy's open files.
    ///   - inPeer: the peer's own sidecar (the peer standing for a second pod) rather than the pod's.
    @discardableResult
    func startProxy(
        configuration: String? = nil, arguments: [String] = [], environment: [String: String] = [:],
        openFiles: Int? = nil, inPeer: Bool = false
    ) throws -> BackgroundProcess {
        let namespace = inPeer ? peer : pod
        let runDirectory = "\(Binaries.directory)/\(namespace)-run"
        try FileManager.default.createDirectory(atPath: runDirectory, withIntermediateDirectories: true)
        _ = chown(runDirectory, 1337, 1337)
        var command =
            ["/usr/bin/env"] + environment.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
            + [Binaries.sidecarProxy, "run", "--admin-token-file", "\(runDirectory)/admin-token"] + arguments
        if let configuration {
            command += ["--config", try writeReadableFile(named: "\(namespace).yaml", configuration)]
        }
        let asProxy = { (arguments: [String]) in
            self.inNamespace(namespace, uid: 1337, openFiles: openFiles, arguments)
        }
        let proxy = try start(name: inPeer ? "peer-proxy" : "proxy", asProxy(command))
        do {
            try Shell.run(asProxy([Binaries.sidecarProxy, "wait-ready", "--timeout", "20s"]))
        } catch {
            throw BackgroundProcess.ProcessEnded(name: "proxy (not ready: \(error))", output: proxy.output)
        }
        return proxy
    }

    /// Starts the test server in the pod (as the app) or in the peer, and returns once it listens.
    @discardableResult
    func startServer(inPod: Bool, port: Int, resettingEachConnection: Bool = false) throws -> BackgroundProcess {
        let command =
            ["/usr/bin/python3", "-B", Binaries.peer, "serve", "--port", "\(port)"]
            + (resettingEachConnection ? ["--reset"] : [])
        let server = try start(name: "server-\(port)", inPod ? self.inPod(command) : inPeer(command))
        try server.waitForOutput("READY")
        return server
    }

    /// Starts the HTTP/1.1 echo server in the peer (or in the pod, as the app), and returns once it listens.
    /// - Parameter status: every request gets this status instead of the echo.
    @discardableResult
    func startHTTPServer(port: Int, status: Int? = nil, inPod: Bool = false) throws -> BackgroundProcess {
        let command =
            ["/usr/bin/python3", "-B", Binaries.peer, "http-serve", "--port", "\(port)", "--log"]
            + (status.map { ["--status", "\($0)"] } ?? [])
        let server = try start(name: "http-server-\(port)", inPod ? self.inPod(command) : inPeer(command))
        try server.waitForOutput("READY")
        return server
    }

    /// Starts, in the peer, a server that reads requests as leniently as RFC 9112 allows and answers each with
    /// `served METHOD TARGET` (and prints that line); returns once it listens.
    @discardableResult
    func startLenientHTTPServer(port: Int) throws -> BackgroundProcess {
        let server = try start(
            name: "lenient-http-\(port)",
            inPeer(["/usr/bin/python3", "-B", Binaries.peer, "lenient-serve", "--port", "\(port)"]))
        try server.waitForOutput("READY")
        return server
    }

    /// The pod's own /etc/hosts: `ip netns exec` puts /etc/netns/POD/hosts in its place for what runs in the pod.
    func writePodHosts(_ text: String) throws {
        try writePodEtcFile("hosts", text)
    }

    /// The pod's own /etc/resolv.conf, as for `writePodHosts`.
    func writePodResolvConf(_ text: String) throws {
        try writePodEtcFile("resolv.conf", text)
    }

    private func writePodEtcFile(_ name: String, _ text: String) throws {
        let directory = "/etc/netns/\(pod)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try text.write(toFile: "\(directory)/\(name)", atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: "\(directory)/\(name)")
    }

    /// Starts a nameserver on the upstream address (in the peer), which the pod's resolv.conf names: `*.test` names
    /// resolve to 10.1.2.3, those in `addresses` to their own. Its output has a JSON line per question it was asked.
    @discardableResult
    func startNameserver(addresses: [String: String] = [:]) throws -> BackgroundProcess {
        try writePodResolvConf("nameserver \(upstreamIPv4)\n")
        let nameserver = try start(
            name: "dns-server",
            inPeer(
                ["/usr/bin/python3", "-B", Binaries.peer, "dns-serve", "--bind", upstreamIPv4]
                    + addresses.sorted { $0.key < $1.key }.flatMap { ["--address", "\($0.key)=\($0.value)"] }))
        try nameserver.waitForOutput("READY")
        return nameserver
    }

    /// Makes the upstream address drop connection attempts to `port` without answer, as a black-holed host does.
    func blackHole(port: Int) throws {
        try Shell.run(
            inPeer(["nft", "-f", "-"]),
            stdin: """
                table inet blackhole {
                    chain input { type filter hook input priority 0; tcp dport \(port) drop; }
                }
                """)
    }

    /// Drops the first SYN to `port` in the peer (a quota of one packet), so the first connection to it takes the
    /// kernel's retransmission, about a second, to open.
    func dropFirstSYN(port: Int) throws {
        try Shell.run(
            inPeer(["nft", "-f", "-"]),
            stdin: """
                table inet firstsyn {
                    chain input {
                        type filter hook input priority 0;
                        tcp dport \(port) tcp flags & (syn | ack) == syn quota until 100 bytes drop;
                    }
                }
                """)
    }

    /// Starts an OTLP/HTTP collector in the peer; its output has a JSON line per export it received.
    func startOTLPCollector(port: Int) throws -> BackgroundProcess {
        let collector = try start(
            name: "otlp-collector-\(port)",
            inPeer(["/usr/bin/python3", "-B", Binaries.peer, "otlp-collect", "--port", "\(port)"]))
        try collector.waitForOutput("READY")
        return collector
    }

    /// Starts nginx in the peer as an HTTP/2 (prior knowledge) server on the upstream address: gRPC-style answers
    /// with trailers under `/echo.Echo/`, the request's `traceparent` at `/echo.Echo/Trace` (its
    /// `x-forwarded-client-cert` at `/xfcc`), an answer after three
    /// seconds under `/slow`, `ok PATH` elsewhere.
    /// Returns once it answers.
    /// - Parameters:
    ///   - status: what requests under `/status` are answered with (without it, `ok PATH` as elsewhere).
    ///   - requestsPerConnection: after this many streams on a connection nginx sends GOAWAY and ignores any stream
    ///     opened after the ones it took (its `keepalive_requests`).
    @discardableResult
    func startHTTP2Server(port: Int, status: Int? = nil, requestsPerConnection: Int = 1000) throws
        -> BackgroundProcess
    {
        let server = try startNginx(
            name: "nginx-\(port)", modules: ["ngx_http_echo_module"],
            http: { _ in
                """
                server {
                    listen \(upstreamIPv4):\(port) http2;
                    keepalive_requests \(requestsPerConnection);
                    location = /up { return 200; }
                    \(status.map { "location /status { return \($0); }" } ?? "")
                    location /echo.Echo/ {
                        default_type application/grpc;
                        add_trailer grpc-status 0;
                        echo "grpc-ok";
                    }
                    location = /echo.Echo/Trace { return 200 "$http_traceparent"; }
                    location = /xfcc { return 200 "$http_x_forwarded_client_cert"; }
                    location /slow { echo_sleep 3; echo "late"; }
                    location / { return 200 "ok $request_uri\\n"; }
                }
                """
            }
        ).process
        let deadline = Date().addingTimeInterval(10)
        while try Shell.run(
            inPeer(["curl", "-s", "-o", "/dev/null", "--http2-prior-knowledge", "http://\(upstreamIPv4):\(port)/up"]),
            expectSuccess: false
        ).status != 0 {
            guard Date() < deadline else { throw BackgroundProcess.ProcessEnded(name: "nginx", output: server.output) }
            usleep(50_000)
        }
        return server
    }

    /// Starts nginx in the peer, in the foreground and without its master process, with what `http` gives inside
    /// its `http` block (given the folder nginx keeps its pid and temporary files in, where a test may put files of
    /// its own); returns it and that folder.
    func startNginx(name: String, modules: [String] = [], http: (String) -> String) throws -> (
        process: BackgroundProcess, folder: String
    ) {
        let prefix = "\(Binaries.directory)/\(pod)-\(name)"
        try FileManager.default.createDirectory(atPath: prefix, withIntermediateDirectories: true)
        let loads = modules.map { "load_module /usr/lib/nginx/modules/\($0).so;\n" }.joined()
        let configuration = try writeReadableFile(
            named: "\(pod)-\(name)/nginx.conf",
            """
            \(loads)daemon off;
            master_process off;
            pid \(prefix)/nginx.pid;
            error_log stderr;
            events {}
            http {
                access_log off;
                client_body_temp_path \(prefix);
            \(http(prefix))
            }
            """)
        return (try start(name: name, inPeer(["nginx", "-p", prefix, "-c", configuration])), prefix)
    }

    /// Starts `openssl s_server` in the peer on the upstream address, with a fresh self-signed certificate for
    /// api.allowed.test, and returns once it accepts.
    @discardableResult
    func startTLSServer(port: Int, on host: String? = nil) throws -> BackgroundProcess {
        let key = try writeReadableFile(named: "\(pod)-\(host ?? upstreamIPv4)-key.pem", "")
        let certificate = try writeReadableFile(named: "\(pod)-\(host ?? upstreamIPv4)-cert.pem", "")
        try Shell.run([
            "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
            "-subj", "/CN=api.allowed.test", "-days", "1", "-keyout", key, "-out", certificate,
        ])
        let server = try start(
            name: "tls-server-\(host ?? upstreamIPv4)-\(port)",
            inPeer([
                "openssl", "s_server", "-accept", "\(host ?? upstreamIPv4):\(port)", "-cert", certificate, "-key", key,
                "-www",
            ]))
        try server.waitForOutput("ACCEPT")
        return server
    }

    /// Starts a UDP server that answers every datagram with `name`, and returns once it is bound.
    @discardableResult
    func startUDPServer(inPod: Bool, bind: String, port: Int, name: String) throws -> BackgroundProcess {
        let command = [
            "/usr/bin/python3", "-B", Binaries.peer, "udp-serve", "--bind", bind, "--port", "\(port)", "--name", name,
        ]
        let server = try start(name: "udp-\(name)", inPod ? self.inPod(command) : inPeer(command))
        try server.waitForOutput("READY")
        return server
    }

    /// An app connection to the upstream (or `host`) through the proxy, held after the greeting until `closeInput()`; it then
    /// uploads and downloads `size` bytes and prints the peer's report. Returns once the connection is held.
    func startHeldCall(host: String? = nil, port: Int, size: Int) throws -> BackgroundProcess {
        let held = try start(
            name: "held-client",
            inPod([
                "/usr/bin/python3", "-B", Binaries.peer, "call", host ?? upstreamIPv4, "\(port)", "--send", "\(size)",
                "--expect", "\(size)", "--source-hold",
            ]))
        try held.waitForOutput("HOLDING")
        return held
    }

    /// The proxy's own folder (as the sidecar container's filesystem would be), writable by its uid only.
    var proxyRunDirectory: String { "\(Binaries.directory)/\(pod)-run" }

    /// Where the proxy writes the admin token.
    var adminTokenFile: String { "\(proxyRunDirectory)/admin-token" }

    /// `Authorization: Bearer TOKEN`, read from the proxy's token file as an operator in its container would.
    func adminAuthorization(inPeer: Bool = false) throws -> String {
        let file = inPeer ? "\(Binaries.directory)/\(peer)-run/admin-token" : adminTokenFile
        let token = try String(contentsOfFile: file, encoding: .utf8)
        return "Authorization: Bearer \(token.trimmingCharacters(in: .whitespacesAndNewlines))"
    }

    /// Asks the proxy's admin port (or, with `port`, another of its ports) from inside the pod as the proxy's uid
    /// (as `kubectl exec` into its container would; the capture rules keep other uids off the admin port), with
    /// curl: the body, or with `statusOnly` the HTTP status code. Any method but GET carries the admin token.
    @discardableResult
    func askProxy(
        _ path: String, method: String = "GET", port: Int = 15000, statusOnly: Bool = false, inPeer: Bool = false
    ) throws -> String {
        let output = statusOnly ? ["-o", "/dev/null", "-w", "%{http_code}"] : []
        let credential = method != "GET" ? ["-H", try adminAuthorization(inPeer: inPeer)] : []
        return try Shell.run(
            inNamespace(
                inPeer ? peer : pod, uid: 1337, openFiles: nil,
                ["curl", "-s", "--max-time", "5", "-X", method] + credential + output
                    + ["http://127.0.0.1:\(port)\(path)"])
        ).stdout
    }

    /// Writes a file the proxy's and the app's uids can read, next to the copied binaries.
    func writeReadableFile(named name: String, _ contents: String) throws -> String {
        let path = "\(Binaries.directory)/\(name)"
        try contents.write(toFile: path, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: path)
        return path
    }

    /// `sidecar-status --json` for the pod, decoded.
    func statusJSON() throws -> [String: Any] {
        let result = try Shell.run(
            [Binaries.sidecarStatus, "--json", "--netns", podNamespacePath], expectSuccess: false)
        return try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as! [String: Any]
    }

    /// The kernel's packet count on the rules with this comment, from `sidecar-status --json`.
    func rulePackets(comment: String) throws -> Int {
        let interception = try statusJSON()["interception"] as! [String: Any]
        let chains = interception["chains"] as! [[String: Any]]
        return chains.flatMap { $0["rules"] as! [[String: Any]] }
            .filter { $0["comment"] as? String == comment }
            .reduce(0) { $0 + ($1["packets"] as! Int) }
    }

    func start(name: String, _ arguments: [String]) throws -> BackgroundProcess {
        let process = try BackgroundProcess(name: name, arguments)
        processes.append(process)
        return process
    }

    private static func ip(_ arguments: String...) throws {
        try Shell.run(["ip"] + arguments)
    }

    /// Privileged tests never skip quietly: without root they fail, saying why.
    static func requireRoot() throws {
        struct NotRoot: Error, CustomStringConvertible {
            var description: String { "integration tests need root (CAP_NET_ADMIN) to create network namespaces" }
        }
        if getuid() != 0 { throw NotRoot() }
    }
}
