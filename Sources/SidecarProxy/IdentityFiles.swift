import Foundation
import Identity
import Policy
import Proxy
import SidecarCLI

/// Reads this workload's identity files where the configuration says, checks the set whole, and builds the TLS
/// contexts it serves with: at `check`, at start, and each time the files change.
enum IdentityFiles {
    /// Why a set of files cannot serve, in words naming the file or the rule that failed.
    struct Unusable: Error, CustomStringConvertible {
        let description: String
    }

    /// - Throws: bad input (exit 2): a proxy must not start, and `check` must not pass, with an identity it could
    ///   not serve.
    static func load(_ source: IdentitySource) async throws(CommandFailure) -> MeshTLSContexts {
        do {
            return try await contexts(for: read(source), from: source)
        } catch {
            throw .badInput(error.description)
        }
    }

    /// The three files as they are now. Blocking file I/O.
    static func read(_ source: IdentitySource) throws(Unusable) -> IdentityMaterial {
        IdentityMaterial(
            chain: try read(source.certificate, as: "identity.certificate"),
            key: try read(source.privateKey, as: "identity.privateKey"),
            bundle: try read(source.trustBundle, as: "identity.trustBundle"))
    }

    /// The contexts `material` serves with, once it passed every check at the present time.
    static func contexts(for material: IdentityMaterial, from source: IdentitySource) async throws(Unusable)
        -> MeshTLSContexts
    {
        let identity: WorkloadIdentity
        do {
            identity = try await WorkloadIdentity.check(material, at: Date())
        } catch {
            throw Unusable(description: "identity (\(source.certificate)): \(error)")
        }
        do {
            return try MeshTLSContexts(identity)
        } catch {
            throw Unusable(description: "identity (\(source.certificate)): TLS refuses it: \(error)")
        }
    }

    private static func read(_ path: String, as key: String) throws(Unusable) -> String {
        do {
            return try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw Unusable(description: "\(key) \(path): cannot read: \(error.localizedDescription)")
        }
    }
}
