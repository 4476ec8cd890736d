import Foundation

/// Python's grpcio as the app's gRPC client in the pod and its server in the peer.
extension PodTopology {
    /// One call's outcome as the client saw it.
    struct GRPCCall: Decodable {
        var code: String
        var details: String
        var reply: String?
    }

    /// Calls `methods` of `/echo.Echo/` in turn on one channel from the pod, to the peer's server at `port`
    /// (`Chat` streams both ways; `@SECONDS` pauses).
    func grpcCalls(port: Int, _ methods: [String]) throws -> [GRPCCall] {
        let result = try Shell.run(
            inPod(["/usr/bin/python3", "-B", Binaries.peer, "grpc-call", upstreamIPv4, "\(port)"] + methods))
        return try JSONDecoder().decode([GRPCCall].self, from: Data(result.stdout.utf8))
    }

    /// The peer's gRPC server at `port`; with `maxAgeMs`, it retires each connection (GOAWAY) that old.
    func startGRPCServer(port: Int, maxAgeMs: Int = 0) throws {
        let server = try start(
            name: "grpc-server-\(port)",
            inPeer([
                "/usr/bin/python3", "-B", Binaries.peer, "grpc-serve", "--bind", upstreamIPv4, "--port", "\(port)",
                "--max-age-ms", "\(maxAgeMs)",
            ]))
        try server.waitForOutput("READY")
    }
}
