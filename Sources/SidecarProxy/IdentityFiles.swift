import Foundation
import Identity
import Policy
import Proxy
import SidecarCLI

/// Reads this workload's identity files where the configuration says, checks the set whole, and builds the TLS
/// contexts it serves with.
enum IdentityFiles {
    /// - Throws: bad input (exit 2) naming the file or the rule that failed: a proxy must not start, and `check`
    ///   must not pass, with an identity it could not serve.
    static func load(_ source: IdentitySource) async throws(CommandFailure) -> MeshTLSContexts {
        let material = IdentityMaterial(
            chain: try read(source.certificate, as: "identity.certificate"),
            key: try read(source.privateKey, as: "identity.privateKey"),
            bundle: try read(source.trustBundle, as: "identity.trustBundle"))
        let identity: WorkloadIdentity
        do {
            identity = try await WorkloadIdentity.check(material, at: Date())
        } catch {
            throw .badInput("identity (\(source.certificate)): \(error)")
        }
        do {
            return try MeshTLSContexts(identity)
        } catch {
            throw .badInput("identity (\(source.certificate)): TLS refuses it: \(error)")
        }
    }

    private static func read(_ path: String, as key: String) throws(CommandFailure) -> String {
        do {
            return try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw .badInput("\(key) \(path): cannot read: \(error.localizedDescription)")
        }
    }
}
