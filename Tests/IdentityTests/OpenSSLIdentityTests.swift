import Foundation
import Identity
import Testing

/// Identity files as another stack writes them: the `openssl` CLI makes a CA and a P-521 workload (the curve
/// cert-manager's csi-driver-spiffe issues) with its key in SEC1 form, as cert-manager writes `tls.key`.
@Suite struct OpenSSLIdentityTests {
    @Test func filesFromOpenSSLAreTaken() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("identity-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let script = """
            set -e
            openssl ecparam -name prime256v1 -genkey -noout -out ca.key
            openssl req -x509 -new -key ca.key -subj /CN=ca -days 2 -out ca.crt \
              -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign
            openssl ecparam -name secp521r1 -genkey -noout -out tls.key
            openssl req -new -key tls.key -subj /CN=workload -out tls.csr
            printf 'basicConstraints=critical,CA:FALSE\\nkeyUsage=critical,digitalSignature\\nsubjectAltName=URI:spiffe://cluster.local/ns/shop/sa/cart\\n' > ext
            openssl x509 -req -in tls.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 1 -extfile ext -out tls.crt
            """
        let openssl = Process()
        openssl.executableURL = URL(fileURLWithPath: "/bin/sh")
        openssl.arguments = ["-c", script]
        openssl.currentDirectoryURL = folder
        openssl.standardError = FileHandle.nullDevice
        try openssl.run()
        openssl.waitUntilExit()
        try #require(openssl.terminationStatus == 0)
        func read(_ name: String) throws -> String {
            try String(contentsOf: folder.appendingPathComponent(name), encoding: .utf8)
        }
        #expect(try read("tls.key").contains("BEGIN EC PRIVATE KEY"))
        let identity = try await WorkloadIdentity.check(
            IdentityMaterial(chain: try read("tls.crt"), key: try read("tls.key"), bundle: try read("ca.crt")),
            at: Date())
        #expect(identity.id.description == "spiffe://cluster.local/ns/shop/sa/cart")
        #expect(identity.id.namespace == "shop")
    }
}
