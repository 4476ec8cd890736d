import Foundation

/// Identity files made by the `openssl` CLI for one test, in cert-manager csi-driver-spiffe's layout (`tls.crt`,
/// `tls.key`, `ca.crt`), in a folder the proxy's uid can read; removed by `remove()`. No key is ever committed.
struct TestIdentity {
    let directory: String

    /// An empty folder, for `TestAuthority.issue` to fill.
    init(empty: Void) throws {
        directory = "\(Binaries.directory)/identity-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    /// A workload certificate naming `uris` from an authority of its own, whose key is removed with it.
    init(uris: [String] = ["spiffe://cluster.local/ns/shop/sa/cart"]) throws {
        let authority = try TestAuthority()
        defer { authority.remove() }
        self = try authority.issue(uris)
    }

    var certificate: String { "\(directory)/tls.crt" }
    var privateKey: String { "\(directory)/tls.key" }
    var bundle: String { "\(directory)/ca.crt" }

    /// Replaces the workload's key with one that does not belong to its certificate.
    func replaceKey() throws {
        _ = try Shell.run([
            "sh", "-c",
            "set -e; cd \(directory); openssl ecparam -name prime256v1 -genkey -noout -out tls.key; chmod 644 tls.key",
        ])
    }

    /// The configuration naming these files.
    var configuration: String { "identity: { directory: \(directory), layout: csi-spiffe }\n" }

    func remove() {
        try? FileManager.default.removeItem(atPath: directory)
    }
}
