import Foundation
import Testing

/// A workload's identity rotates without a restart: new files are taken when they are whole and valid (at the next
/// look, every few seconds, or at once on `POST /reload`), open connections keep the contexts they began with, a half
/// written set is refused while the set in force serves on, and a strict pod whose identity expired is not ready.
@Suite struct IdentityRotationTests {
    static let applied = #"sidecar_identity_reloads_total{result="applied"} 1"#

    @Test func aProjectedVolumeRotatesUnderAnOpenConnection() async throws {
        try await PodTopology.withMesh(b: "") { topology, identities in
            try topology.startServer(inPod: false, port: 8080)
            #expect(try topology.servedSerial(port: 8080, identity: identities.frontend) == identities.orders.serial)
            let size = 4 * 1024 * 1024
            let held = try topology.startHeldCall(host: topology.peerIPv4, port: 8080, size: size)

            // The kubelet's swap of the `..data` symlink, with no signal: B takes it at its next look.
            let renewed = try identities.authority.issue([MutualTLSTests.orders])
            defer { renewed.remove() }
            try identities.orders.rotate(to: renewed)
            try waitUntil(within: .seconds(15), "the rotation") {
                try topology.askProxy("/metrics", inPeer: true).contains(Self.applied)
            }
            #expect(try topology.servedSerial(port: 8080, identity: identities.frontend) == renewed.serial)
            let metrics = try topology.askProxy("/metrics", inPeer: true)
            #expect(
                metrics.contains("sidecar_identity_expiry_timestamp_seconds \(try renewed.notValidAfter)"),
                "\(metrics.split(separator: "\n").filter { $0.hasPrefix("sidecar_identity") })")

            // The connection opened before goes on, on the contexts it began with.
            let result = try PeerClient.finishHeldCall(held)
            #expect(result.server.received == size && result.server.sha256 == result.sentSha256)
            #expect(result.receivedSha256 == result.expectedSha256)
            // And A's sidecar, which trusts the same CA, keeps meshing to B's new certificate.
            #expect(try PeerClient.reaches(topology.inPod([]), host: topology.peerIPv4, port: 8080))
        }
    }

    @Test func aHalfWrittenSetIsRefusedAndTheWholeOneTaken() async throws {
        try await PodTopology.withMesh(b: "", meshA: false) { topology, identities in
            try topology.startServer(inPod: false, port: 8080)
            let served = try identities.orders.serial
            let renewed = try identities.authority.issue([MutualTLSTests.orders])
            defer { renewed.remove() }

            // Written in place one file after another, as spiffe-helper writes: first the certificate alone, whose
            // key is not yet there.
            try identities.orders.overwrite("tls.crt", from: renewed)
            try waitUntil(within: .seconds(15), "the refusal") {
                try topology.askProxy("/metrics", inPeer: true).contains(
                    #"sidecar_identity_reloads_total{result="refused"}"#)
            }
            #expect(try topology.servedSerial(port: 8080, identity: identities.frontend) == served)
            let refused = try topology.askProxy("/reload", method: "POST", inPeer: true)
            #expect(refused.contains("identity refused, the identity in force serves on:"), "\(refused)")
            #expect(refused.contains("the private key does not belong to the certificate"), "\(refused)")

            // Then the key: the set is whole, and a reload takes it at once (unless B's own look was quicker).
            try identities.orders.overwrite("tls.key", from: renewed)
            let taken = try topology.askProxy("/reload", method: "POST", inPeer: true)
            #expect(taken.hasPrefix("reloaded: generation 3\nidentity: "), "\(taken)")
            #expect(!taken.contains("refused"), "\(taken)")
            #expect(try topology.servedSerial(port: 8080, identity: identities.frontend) == renewed.serial)
            #expect(try topology.askProxy("/metrics", inPeer: true).contains(Self.applied))
        }
    }

    @Test func aStrictPodIsNotReadyOnceItsIdentityExpired() async throws {
        let authority = try TestAuthority()
        let shortLived = try authority.issue([MutualTLSTests.orders], validFor: .seconds(15))
        defer {
            authority.remove()
            shortLived.remove()
        }
        try await PodTopology.with { topology in
            let proxy = try topology.startProxy(configuration: shortLived.configuration + "mtls: { mode: strict }\n")
            #expect(try topology.askProxy("/healthz/ready", port: 15020) == "ready\n")
            try waitUntil(within: .seconds(30), "expiry") {
                try topology.askProxy("/healthz/ready", port: 15020).contains("expired")
            }
            #expect(try topology.askProxy("/healthz/ready", port: 15020, statusOnly: true) == "503")
            try proxy.waitForOutput("the identity in force has expired", timeout: .seconds(10))
        }
    }
}
