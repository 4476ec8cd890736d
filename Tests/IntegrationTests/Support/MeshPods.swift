import Foundation

/// One CA and the identities the mutual TLS tests present; removed with the test.
struct MeshIdentities {
    let authority: TestAuthority
    let frontend: TestIdentity
    /// Pod B's, in a projected volume's layout (the `..data` symlink), as Kubernetes mounts it.
    let orders: TestIdentity

    init() throws {
        authority = try TestAuthority()
        frontend = try authority.issue([MutualTLSTests.frontend])
        orders = try authority.issue([MutualTLSTests.orders])
        try orders.project()
    }

    func remove() {
        authority.remove()
        frontend.remove()
        orders.remove()
    }
}

extension PodTopology {
    /// Pod B (the peer) with its rules and its proxy (`configuration` after its identity), and, when `meshA`, pod A
    /// with its rules and a proxy that meshes connections to B; then `body`.
    /// - Parameters:
    ///   - bCapture: more `sidecar-init install` options for B.
    ///   - sharedConnections: A carries HTTP to B as streams of shared connections (`mtls.shareConnections`).
    ///   - a: more of A's configuration, after its identity and `mtls`.
    ///   - aArguments: more `sidecar-proxy run` options for A.
    static func withMesh(
        b configuration: String, bCapture: [String] = [], meshA: Bool = true, sharedConnections: Bool = false,
        a: String = "", aArguments: [String] = [], _ body: (PodTopology, MeshIdentities) async throws -> Void
    ) async throws {
        let identities = try MeshIdentities()
        defer { identities.remove() }
        try await PodTopology.with { topology in
            try Shell.run(
                [Binaries.sidecarInit, "install", "--netns", topology.peerNamespacePath] + bCapture)
            try topology.startProxy(configuration: identities.orders.configuration + configuration, inPeer: true)
            if meshA {
                try topology.sidecarInit("install")
                try topology.startProxy(
                    configuration: identities.frontend.configuration
                        + "mtls: { meshCidrs: [\(topology.peerIPv4)/32, \(topology.upstreamIPv4)/32]"
                        + (sharedConnections ? ", shareConnections: true }\n" : " }\n") + a,
                    arguments: aArguments)
            }
            try await body(topology, identities)
        }
    }

    /// `openssl s_client` in the pod as `uid` (the app's by default: uncaptured when the pod has no rules) to B
    /// with `identity`, offering `alpn`: sends `input`, and prints what it receives until the server closes or two
    /// seconds pass (its input then ends, and so does it).
    func opensslClient(
        port: Int, identity: TestIdentity?, alpn: String, input: String = "", uid: Int? = nil
    ) throws -> CommandResult {
        let credentials = identity.map { "-cert \($0.certificate) -key \($0.privateKey)" } ?? ""
        let client =
            "openssl s_client -connect \(peerIPv4):\(port) -tls1_3 -alpn \(alpn) -quiet -no_ign_eof"
            + " -CAfile \(identity?.bundle ?? "/dev/null") \(credentials)"
        return try Shell.run(
            inPod(uid: uid, ["sh", "-c", "(cat; sleep 2) | \(client)"]), expectSuccess: false, stdin: input)
    }

    /// The serial number of the certificate B's sidecar presents to a new mesh connection from `identity`, asked as
    /// the proxy's uid (which A's rules, when installed, leave alone).
    func servedSerial(port: Int, identity: TestIdentity) throws -> String {
        let client =
            "openssl s_client -connect \(peerIPv4):\(port) -tls1_3 -alpn sidecar.mesh/tcp -CAfile \(identity.bundle)"
            + " -cert \(identity.certificate) -key \(identity.privateKey) </dev/null 2>/dev/null"
        return try Shell.run(
            inPod(uid: 1337, ["sh", "-c", "\(client) | openssl x509 -noout -serial"]), expectSuccess: false
        )
        .stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
