import Foundation

/// A certificate authority made by the `openssl` CLI for one test (P-256), which issues workload identities; its
/// key stays in the test's folder and is removed with it. No key is ever committed.
struct TestAuthority {
    let directory: String

    init(subject: String = "test-ca") throws {
        directory = "\(Binaries.directory)/authority-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        _ = try Shell.run([
            "sh", "-c",
            """
            set -e; cd \(directory)
            openssl ecparam -name prime256v1 -genkey -noout -out ca.key
            openssl req -x509 -new -key ca.key -subj /CN=\(subject) -days 2 -out ca.crt \
              -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign
            chmod 755 . && chmod 644 ca.crt
            """,
        ])
    }

    /// The PEM of the authority's certificate: a trust bundle of one root.
    var certificate: String { "\(directory)/ca.crt" }

    /// A workload identity naming `uris` (its URI SANs) in csi-driver-spiffe's layout, with this authority's
    /// certificate as the bundle. `days: 0` makes a certificate that expires as it is made; `isCA` one that may
    /// sign (no workload's).
    func issue(_ uris: [String], days: Int = 1, isCA: Bool = false) throws -> TestIdentity {
        let identity = try TestIdentity(empty: ())
        let names = uris.map { "URI:\($0)" }.joined(separator: ",")
        let constraints =
            isCA
            ? "basicConstraints=critical,CA:TRUE\\nkeyUsage=critical,digitalSignature,keyCertSign"
            : "basicConstraints=critical,CA:FALSE\\nkeyUsage=critical,digitalSignature"
        _ = try Shell.run([
            "sh", "-c",
            """
            set -e; cd \(identity.directory)
            openssl ecparam -name prime256v1 -genkey -noout -out tls.key
            openssl req -new -key tls.key -subj /CN=workload -out tls.csr
            printf '\(constraints)\\nextendedKeyUsage=serverAuth,clientAuth\\nsubjectAltName=\(names)\\n' > ext
            openssl x509 -req -in tls.csr -CA \(certificate) -CAkey \(directory)/ca.key -CAcreateserial \
              -days \(days) -extfile ext -out tls.crt
            cp \(certificate) ca.crt
            chmod 755 . && chmod 644 *
            """,
        ])
        return identity
    }

    func remove() {
        try? FileManager.default.removeItem(atPath: directory)
    }
}
