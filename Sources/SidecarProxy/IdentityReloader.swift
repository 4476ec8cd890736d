import Foundation
import Identity
import Logging
import NIOPosix
import Policy
import Proxy
import Telemetry

/// Puts new contents of the identity files in force without a restart: cert-manager's csi-driver-spiffe swaps a
/// `..data` symlink, spiffe-helper writes its three files one after another. A set is taken only when it passes every
/// check whole (the key is the certificate's, the chain leads to the bundle, in its validity); otherwise the set in
/// force keeps serving and the refusal is logged and counted once. New TLS contexts are built here, off the event
/// loops, and swapped in whole: open connections keep the contexts they began with.
actor IdentityReloader {
    let source: IdentitySource
    private let mesh: MeshCredentials
    private let recorder: TrafficRecorder
    private let logger: Logger
    /// The files as last refused, and why: not checked, counted or logged again until they change once more (a set
    /// half written is refused once, then taken when complete).
    private var refused: (files: FilesSeen, reason: String)?
    /// The refresh under way: each waits for the one before, so an older set is never put in force after a newer.
    private var last: Task<Outcome, Never>?
    /// Whether the expiry of the identity in force was reported.
    private var expiryReported = false

    /// What the files held when last read.
    private enum FilesSeen: Equatable {
        case unreadable(String)
        case contents(IdentityMaterial)
    }

    enum Outcome {
        case unchanged
        case renewed(WorkloadIdentity)
        case refused(String)
    }

    /// Why the files were last refused, while they stay as they were.
    var lastRefusal: String? { refused?.reason }

    init(source: IdentitySource, mesh: MeshCredentials, recorder: TrafficRecorder, logger: Logger) {
        self.source = source
        self.mesh = mesh
        self.recorder = recorder
        self.logger = logger
    }

    /// Reads the files and puts a new, valid set in force.
    func refresh() async -> Outcome {
        let previous = last
        let refresh = Task {
            _ = await previous?.value
            return await self.refreshNow()
        }
        last = refresh
        return await refresh.value
    }

    private func refreshNow() async -> Outcome {
        guard let inForce = mesh.current?.identity else { return .unchanged }
        reportExpiry(of: inForce)
        let seen: FilesSeen
        do {
            let source = self.source
            seen = .contents(
                try await NIOThreadPool.singleton.runIfActive { try IdentityFiles.read(source) })
        } catch {
            seen = .unreadable("\(error)")
        }
        guard seen != .contents(inForce.material) else { return .unchanged }
        if let refused, refused.files == seen { return .refused(refused.reason) }
        let problem: String
        switch seen {
        case .unreadable(let reason): problem = reason
        case .contents(let material):
            do {
                return renew(with: try await IdentityFiles.contexts(for: material, from: source))
            } catch {
                problem = error.description
            }
        }
        refused = (seen, problem)
        recorder.identityReloaded(applied: false)
        logger.error(
            "identity files refused; the identity in force keeps serving",
            metadata: [
                "problem": "\(problem)", "id": "\(inForce.id)",
                "validUntil": "\(inForce.notValidAfter.formatted(.iso8601))",
            ])
        return .refused(problem)
    }

    private func renew(with contexts: MeshTLSContexts) -> Outcome {
        refused = nil
        expiryReported = false
        mesh.replace(with: contexts)
        let identity = contexts.identity
        recorder.identityReloaded(applied: true)
        recorder.identityInForce(validUntil: identity.notValidAfter)
        logger.notice(
            "identity renewed",
            metadata: ["id": "\(identity.id)", "validUntil": "\(identity.notValidAfter.formatted(.iso8601))"])
        return .renewed(identity)
    }

    /// Once per identity: peers refuse an expired certificate, so every meshed connection fails until new files come.
    private func reportExpiry(of identity: WorkloadIdentity) {
        guard !expiryReported, identity.notValidAfter < Date() else { return }
        expiryReported = true
        logger.error(
            "the identity in force has expired; meshed connections fail until its files are renewed",
            metadata: ["id": "\(identity.id)", "validUntil": "\(identity.notValidAfter.formatted(.iso8601))"])
    }
}
