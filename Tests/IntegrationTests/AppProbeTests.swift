import Foundation
import Testing

/// The app's own probes behind the sidecar: `sidecar-inject` points the kubelet at
/// `:15020/app-health/CONTAINER/livez|readyz|startupz`, and the proxy runs the original check against the app in the
/// pod (HTTP to its port and path, a TCP connect, the standard gRPC health service from grpcio-health-checking). The
/// kubelet is the peer namespace, which stands for the node: it dials the pod's address, as a kubelet does.
@Suite struct AppProbeTests {
    /// A pod as an operator writes it: the probes are the ones the proxy takes over.
    static let pod = """
        apiVersion: v1
        kind: Pod
        metadata: {name: probed}
        spec:
          containers:
            - name: app
              image: example/app
              ports: [{name: http, containerPort: 8080}]
              readinessProbe:
                httpGet: {path: /ready, port: http, httpHeaders: [{name: X-Probe, value: kubelet}]}
              livenessProbe:
                tcpSocket: {port: 9000}
              startupProbe:
                grpc: {port: 9090, service: orders}
                timeoutSeconds: 2
        """

    /// The proxy's environment as `sidecar-inject` writes it for `pod`: read off its real output.
    static func injectedProbes() throws -> String {
        let injected = try Shell.run([Binaries.sidecarInject, "-f", "-", "--quiet"], stdin: pod).stdout
        // PyYAML, which kubernetes-validate brings, reads the output as Kubernetes would.
        let read = """
            import sys, yaml
            pod = yaml.safe_load(sys.stdin)
            proxy = next(c for c in pod["spec"]["initContainers"] if c["name"] == "sidecar-proxy")
            print(next(e["value"] for e in proxy["env"] if e["name"] == "SIDECAR_APP_PROBES"))
            """
        return try Shell.run(["python3", "-c", read], stdin: injected).stdout.trimmingCharacters(
            in: .whitespacesAndNewlines)
    }

    /// What the kubelet gets for a probe path: the status and the body's one line.
    static func kubeletGet(_ topology: PodTopology, _ path: String, port: Int = 15020) throws -> (Int, String) {
        let result = try Shell.run(
            topology.inPeer([
                "curl", "-s", "-m", "5", "-o", "/dev/stdout", "-w", "\n%{http_code}",
                "http://\(topology.podIPv4):\(port)\(path)",
            ]), expectSuccess: false)
        let lines = result.stdout.split(separator: "\n", omittingEmptySubsequences: false)
        let body = lines.dropLast().joined(separator: "\n").trimmingCharacters(in: .whitespacesAndNewlines)
        return (Int(lines.last ?? "") ?? 0, body)
    }

    /// The standard gRPC health service in the pod; PyPI's grpcio is installed for root's python3 only.
    static func startGRPCHealthServer(_ topology: PodTopology, port: Int) throws -> BackgroundProcess {
        let server = try topology.start(
            name: "grpc-health-\(port)",
            [
                "ip", "netns", "exec", topology.pod, "python3", "-B", Binaries.peer, "grpc-health-serve", "--port",
                "\(port)",
                "--service", "orders",
            ])
        try server.waitForOutput("READY")
        return server
    }

    @Test func eachProbeTypeReachesTheAppAndFailsWithIt() async throws {
        try await PodTopology.with { topology in
            try topology.sidecarInit("install")
            let http = try topology.startHTTPServer(port: 8080, inPod: true)
            let tcp = try topology.startServer(inPod: true, port: 9000)
            let grpc = try Self.startGRPCHealthServer(topology, port: 9090)
            try topology.startProxy(
                environment: ["SIDECAR_APP_PROBES": try Self.injectedProbes(), "SIDECAR_POD_IP": topology.podIPv4])

            #expect(try Self.kubeletGet(topology, "/app-health/app/readyz") == (200, "HTTP 200"))
            #expect(try Self.kubeletGet(topology, "/app-health/app/livez") == (200, "connected"))
            #expect(try Self.kubeletGet(topology, "/app-health/app/startupz") == (200, "SERVING"))
            // The HTTP check reached the app itself, from the proxy's delivery address, with the probe's header.
            #expect(http.output.contains(#""request": "GET /ready", "peer": "127.0.0.6""#), "\(http.output)")
            #expect(http.output.contains(#""x-probe": "kubelet""#), "\(http.output)")

            _ = http.stop(signal: SIGKILL)
            try topology.startHTTPServer(port: 8080, status: 503, inPod: true)
            #expect(try Self.kubeletGet(topology, "/app-health/app/readyz") == (503, "HTTP 503"))

            _ = tcp.stop(signal: SIGKILL)
            let (status, reason) = try Self.kubeletGet(topology, "/app-health/app/livez")
            #expect(status == 503)
            #expect(reason.contains("connection refused"), "\(reason)")
            // What the kubelet's own TCP probe would have met: not the refusal of a closed port, but a handshake
            // with the proxy, which takes every captured connection (and resets it once the app refuses it).
            let direct = try Shell.run(
                topology.inPeer([
                    "/usr/bin/python3", "-c",
                    """
                    import errno, socket
                    try:
                        socket.create_connection(('\(topology.podIPv4)', 9000), timeout=3); print('open')
                    except OSError as error:
                        print(errno.errorcode[error.errno])
                    """,
                ]))
            #expect(["open", "ECONNRESET"].contains(direct.stdout.trimmingCharacters(in: .whitespacesAndNewlines)))

            grpc.send(line: "NOT_SERVING")
            try grpc.waitForOutput("STATUS NOT_SERVING")
            #expect(try Self.kubeletGet(topology, "/app-health/app/startupz") == (503, "NOT_SERVING"))
        }
    }

    @Test func everyProbeTypePassesUnderStrictMutualTLS() async throws {
        let authority = try TestAuthority()
        defer { authority.remove() }
        let identity = try authority.issue([MutualTLSTests.orders])
        defer { identity.remove() }
        try await PodTopology.with { topology in
            try topology.sidecarInit("install")
            try topology.startHTTPServer(port: 8080, inPod: true)
            try topology.startServer(inPod: true, port: 9000)
            _ = try Self.startGRPCHealthServer(topology, port: 9090)
            try topology.startProxy(
                configuration: identity.configuration + "mtls: { mode: strict }\n",
                environment: ["SIDECAR_APP_PROBES": try Self.injectedProbes(), "SIDECAR_POD_IP": topology.podIPv4])
            // The kubelet's own plaintext probe of the app's port is what strict mode refuses: the connection is
            // reset, no answer at all.
            let (direct, body) = try Self.kubeletGet(topology, "/ready", port: 8080)
            #expect(direct == 0, "\(body)")
            #expect(try Self.kubeletGet(topology, "/app-health/app/readyz") == (200, "HTTP 200"))
            #expect(try Self.kubeletGet(topology, "/app-health/app/livez") == (200, "connected"))
            #expect(try Self.kubeletGet(topology, "/app-health/app/startupz") == (200, "SERVING"))
        }
    }

    @Test func aProbeTheProxyCannotRunStopsItsStart() throws {
        let result = try Shell.run(
            [
                "env", "SIDECAR_APP_PROBES={\"app\":{\"livez\":{\"tcpSocket\":{\"port\":0}}}}", Binaries.sidecarProxy,
                "run",
            ],
            expectSuccess: false)
        #expect(result.status == 2)
        #expect(result.stderr.contains("SIDECAR_APP_PROBES: app.livez: port 0 is not from 1 to 65535"), "\(result)")
    }
}
