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
    /// certificate as the bundle, valid from a minute ago for `validFor` (`.zero`: expired as it is made); `isCA`
    /// makes one that may sign (no workload's).
    func issue(_ uris: [String], validFor: Duration = .seconds(86_400), isCA: Bool = false) throws -> TestIdentity {
        let identity = try TestIdentity(empty: ())
        let names = uris.map { "URI:\($0)" }.joined(separator: ",")
        let constraints =
            isCA
            ? "basicConstraints=critical,CA:TRUE\\nkeyUsage=critical,digitalSignature,keyCertSign"
            : "basicConstraints=critical,CA:FALSE\\nkeyUsage=critical,digitalSignature"
        // `openssl ca`, as `x509 -req` takes whole days only.
        let format = DateFormatter()
        format.locale = Locale(identifier: "en_US_POSIX")
        format.timeZone = TimeZone(identifier: "UTC")
        format.dateFormat = "yyyyMMddHHmmss'Z'"
        let now = Date()
        let seconds = Double(validFor.components.seconds)
        _ = try Shell.run([
            "sh", "-c",
            """
            set -e; cd \(identity.directory)
            openssl ecparam -name prime256v1 -genkey -noout -out tls.key
            openssl req -new -key tls.key -subj /CN=workload -out tls.csr
            printf '\(constraints)\\nextendedKeyUsage=serverAuth,clientAuth\\nsubjectAltName=\(names)\\n' > ext
            printf '[ca]\\ndefault_ca=issuer\\n[issuer]\\ndatabase=index\\nnew_certs_dir=.\\nserial=serial\\n' > ca.cnf
            printf 'default_md=sha256\\npolicy=any\\nunique_subject=no\\n[any]\\ncommonName=supplied\\n' >> ca.cnf
            : > index; openssl rand -hex 8 > serial
            openssl ca -batch -notext -config ca.cnf -cert \(certificate) -keyfile \(directory)/ca.key \
              -in tls.csr -out tls.crt -extfile ext -startdate \(format.string(from: now.addingTimeInterval(-60))) \
              -enddate \(format.string(from: now.addingTimeInterval(seconds)))
            rm -f ca.cnf index* serial* ./*.pem tls.csr ext
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
