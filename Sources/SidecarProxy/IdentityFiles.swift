import Foundation
import Identity
import Policy
import SidecarCLI

/// Reads this workload's identity files where the configuration says, and checks the set whole.
enum IdentityFiles {
    /// - Throws: bad input (exit 2) naming the file or the rule that failed: a proxy must not start, and `check`
    ///   must not pass, with an identity it could not serve.
    static func load(_ source: IdentitySource) async throws(CommandFailure) -> WorkloadIdentity {
        let material = IdentityMaterial(
            chain: try read(source.certificate, as: "identity.certificate"),
            key: try read(source.privateKey, as: "identity.privateKey"),
            bundle: try read(source.trustBundle, as: "identity.trustBundle"))
        do {
            return try await WorkloadIdentity.check(material, at: Date())
        } catch {
            throw .badInput("identity (\(source.certificate)): \(error)")
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
