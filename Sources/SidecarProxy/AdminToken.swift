import Foundation
import Proxy
import SidecarCLI

/// The credential the admin API's mutating endpoints (`/drain`, `/quitquitquit`, `/reload`, `/logging`) ask for.
///
/// The capture rules already let only root and the proxy's uid connect to the admin port; an app that runs as root
/// passes that rule, so the mutating endpoints also need a secret that only the sidecar's container holds. The proxy
/// makes a new random token at every start and writes it, readable by its own uid only, to a file in the sidecar
/// container's filesystem, which the app's containers do not share. An operator reads it there
/// (`kubectl exec -c sidecar-proxy … cat`) and sends it as `Authorization: Bearer TOKEN`.
struct AdminToken: Sendable {
    let value: String

    /// Writes a fresh token to `path` (mode 0600, replacing the last one whole), before anything is served.
    /// - Throws: a message naming the file when it cannot be written.
    static func create(at path: String) throws -> AdminToken {
        var generator = SystemRandomNumberGenerator()
        let value = (0..<32).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &generator)) }.joined()
        let temporary = path + ".new"
        unlink(temporary)
        // Created with its mode, so the token is never readable by another uid, not even for a moment.
        let descriptor = open(temporary, O_CREAT | O_EXCL | O_WRONLY, 0o600)
        let bytes = Array((value + "\n").utf8)
        let written = descriptor >= 0 && write(descriptor, bytes, bytes.count) == bytes.count
        if descriptor >= 0 { close(descriptor) }
        guard written, rename(temporary, path) == 0 else {
            try? FileManager.default.removeItem(atPath: temporary)
            throw CommandFailure(
                .badInput,
                "cannot write the admin token to \(path) (--admin-token-file): its folder must exist and be writable")
        }
        return AdminToken(value: value)
    }

    /// `endpoint`, answering 401 to a request without the token.
    func guarding(_ endpoint: HTTPEndpoint) -> HTTPEndpoint {
        let expected = Array("Bearer \(value)".utf8)
        var guarded = endpoint
        guarded.respond = { request in
            guard let given = request.authorization, Self.equalInConstantTime(Array(given.utf8), expected) else {
                return HTTPEndpointResponse(
                    status: .unauthorized,
                    body: "this endpoint needs 'Authorization: Bearer TOKEN', the token from --admin-token-file\n")
            }
            return await endpoint.respond(request)
        }
        return guarded
    }

    /// Compares without stopping at the first difference, so the time taken tells nothing of the token.
    private static func equalInConstantTime(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        return zip(a, b).reduce(0) { $0 | ($1.0 ^ $1.1) } == 0
    }
}
