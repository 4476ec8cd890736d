import Foundation
import Testing

/// The workload identity the configuration names is checked whole before anything serves: `check` shows it, and
/// `check` and `run` refuse a set that could not be served, with exit 2 and the reason.
@Suite struct IdentityFileTests {
    @Test func checkShowsTheWorkloadsIdentity() throws {
        let identity = try TestIdentity()
        defer { identity.remove() }
        let file = "\(identity.directory)/sidecar.yaml"
        try identity.configuration.write(toFile: file, atomically: true, encoding: .utf8)
        let check = try Shell.run([Binaries.sidecarProxy, "check", "--config", file])
        #expect(
            check.stdout.contains("identity: spiffe://cluster.local/ns/shop/sa/cart, valid until"), "\(check.stdout)")
    }

    @Test func checkRefusesASetThatCannotServe() throws {
        let twoNames = try TestIdentity(uris: ["spiffe://cluster.local/a", "spiffe://cluster.local/b"])
        defer { twoNames.remove() }
        let file = "\(twoNames.directory)/sidecar.yaml"
        try twoNames.configuration.write(toFile: file, atomically: true, encoding: .utf8)
        let check = try Shell.run([Binaries.sidecarProxy, "check", "--config", file], expectSuccess: false)
        #expect(check.status == 2)
        #expect(check.stderr.contains("has 2 URI subject alternative names"), "\(check.stderr)")

        let missing = "identity: { directory: \(twoNames.directory)/nothing, layout: spiffe-helper }\n"
        try missing.write(toFile: file, atomically: true, encoding: .utf8)
        let unread = try Shell.run([Binaries.sidecarProxy, "check", "--config", file], expectSuccess: false)
        #expect(unread.status == 2)
        #expect(unread.stderr.contains("identity.certificate \(twoNames.directory)/nothing/svid.pem: cannot read"))
    }

    @Test func runRefusesAKeyOfAnotherCertificate() async throws {
        let identity = try TestIdentity()
        defer { identity.remove() }
        try identity.replaceKey()
        try await PodTopology.with { topology in
            let file = try topology.writeReadableFile(named: "\(topology.pod)-identity.yaml", identity.configuration)
            let run = try Shell.run(
                topology.inPod(uid: 1337, [Binaries.sidecarProxy, "run", "--config", file]), expectSuccess: false)
            #expect(run.status == 2)
            #expect(run.stderr.contains("the private key does not belong to the certificate"), "\(run.stderr)")
        }
    }

    @Test func aReloadCannotMoveTheIdentity() async throws {
        let identity = try TestIdentity()
        let other = try TestIdentity(uris: ["spiffe://cluster.local/ns/shop/sa/other"])
        defer {
            identity.remove()
            other.remove()
        }
        try await PodTopology.with { topology in
            let proxy = try topology.startProxy(configuration: identity.configuration)
            #expect(proxy.output.contains("id=spiffe://cluster.local/ns/shop/sa/cart"), "\(proxy.output)")
            let dump = try JSONSerialization.jsonObject(with: Data(try topology.askProxy("/config_dump").utf8))
            let paths = try #require((dump as? [String: Any])?["identity"] as? [String: String])
            #expect(paths["privateKey"] == "\(identity.directory)/tls.key")
            _ = try topology.writeReadableFile(named: "\(topology.pod).yaml", other.configuration)
            let reload = try Shell.run([
                "ip", "netns", "exec", topology.pod, "curl", "-s", "-w", "%{http_code}", "-X", "POST", "-H",
                try topology.adminAuthorization(), "http://127.0.0.1:15000/reload",
            ])
            #expect(reload.stdout.contains("identity: where the identity files are read changes only with a restart"))
            #expect(reload.stdout.hasSuffix("422"))
        }
    }
}
