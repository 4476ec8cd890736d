import Foundation

/// Identity files made by the `openssl` CLI for one test, in cert-manager csi-driver-spiffe's layout (`tls.crt`,
/// `tls.key`, `ca.crt`), in a folder the proxy's uid can read; removed by `remove()`. No key is ever committed.
struct TestIdentity {
    let directory: String

    /// A CA and a P-256 workload certificate naming `uris` (its URI SANs).
    init(uris: [String] = ["spiffe://cluster.local/ns/shop/sa/cart"]) throws {
        directory = "\(Binaries.directory)/identity-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let names = uris.map { "URI:\($0)" }.joined(separator: ",")
        try run(
            """
            openssl ecparam -name prime256v1 -genkey -noout -out ca.key
            openssl req -x509 -new -key ca.key -subj /CN=test-ca -days 2 -out ca.crt \
              -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign
            openssl ecparam -name prime256v1 -genkey -noout -out tls.key
            openssl req -new -key tls.key -subj /CN=workload -out tls.csr
            printf 'basicConstraints=critical,CA:FALSE\\nkeyUsage=critical,digitalSignature\\nsubjectAltName=\(names)\\n' > ext
            openssl x509 -req -in tls.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 1 -extfile ext -out tls.crt
            chmod 755 . && chmod 644 *
            """)
    }

    /// Replaces the workload's key with one that does not belong to its certificate.
    func replaceKey() throws {
        try run("openssl ecparam -name prime256v1 -genkey -noout -out tls.key && chmod 644 tls.key")
    }

    /// The configuration naming these files.
    var configuration: String { "identity: { directory: \(directory), layout: csi-spiffe }\n" }

    func remove() {
        try? FileManager.default.removeItem(atPath: directory)
    }

    private func run(_ script: String) throws {
        _ = try Shell.run(["sh", "-c", "set -e; cd \(directory); \(script)"])
    }
}
