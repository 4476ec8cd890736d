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

    /// The files as a Kubernetes projected volume holds them (csi-driver-spiffe's is one): in a timestamped folder
    /// that the `..data` symlink names, each file a symlink through it.
    func project() throws {
        _ = try Shell.run([
            "sh", "-c",
            """
            set -e; cd \(directory); mkdir ..first; mv tls.crt tls.key ca.crt ..first/; ln -s ..first ..data
            for file in tls.crt tls.key ca.crt; do ln -s ..data/$file $file; done; chmod 755 ..first
            """,
        ])
    }

    /// Rotates a projected folder to `other`'s files as the kubelet does: a new timestamped folder, then one
    /// rename of a new `..data` symlink over the old, then the old folder removed.
    func rotate(to other: TestIdentity) throws {
        _ = try Shell.run([
            "sh", "-c",
            """
            set -e; cd \(directory); old=$(readlink ..data); new=..$(date +%s%N)
            mkdir $new; cp \(other.certificate) \(other.privateKey) \(other.bundle) $new/; chmod -R a+rX $new
            ln -s $new ..data_tmp; mv -T ..data_tmp ..data; rm -rf $old
            """,
        ])
    }

    /// Writes `other`'s copy of one file (`tls.crt`, `tls.key` or `ca.crt`) over this one's in place, as
    /// spiffe-helper writes its files one after another.
    func overwrite(_ file: String, from other: TestIdentity) throws {
        _ = try Shell.run(["cp", "\(other.directory)/\(file)", "\(directory)/\(file)"])
    }

    /// The certificate's serial number, as `openssl x509 -serial` prints it.
    var serial: String {
        get throws {
            try Shell.run(["openssl", "x509", "-in", certificate, "-noout", "-serial"]).stdout
                .trimmingCharacters(in: .whitespacesAndNewlines)
        }
    }

    /// When the certificate expires, in seconds since 1970.
    var notValidAfter: Int {
        get throws {
            let text = try Shell.run([
                "sh", "-c", "date -d \"$(openssl x509 -in \(certificate) -noout -enddate | cut -d= -f2)\" +%s",
            ]).stdout
            return Int(text.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
        }
    }

    /// The configuration naming these files.
    var configuration: String { "identity: { directory: \(directory), layout: csi-spiffe }\n" }

    func remove() {
        try? FileManager.default.removeItem(atPath: directory)
    }
}
