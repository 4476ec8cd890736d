import Foundation
import Logging
import NIOPosix
import Policy
import Proxy
import SidecarCLI
import Synchronization
import Telemetry

/// Reloads the configuration file on request (SIGHUP, `POST /reload`): the new file is validated first, and a bad
/// one is refused with its problems logged while the configuration in force keeps serving. The identity files are
/// read again too, so a rotation can be taken at once rather than at the next look.
final class ConfigurationReloader: Sendable {
    let path: String?
    let store: ConfigurationStore
    let identity: IdentityReloader?
    let recorder: TrafficRecorder
    let logger: Logger
    /// One reload at a time (SIGHUP and `POST /reload` arrive on different threads): an older file must never be
    /// applied after a newer one.
    private let serial = Mutex(())

    init(
        path: String?, store: ConfigurationStore, identity: IdentityReloader?, recorder: TrafficRecorder,
        logger: Logger
    ) {
        self.path = path
        self.store = store
        self.identity = identity
        self.recorder = recorder
        self.logger = logger
    }

    /// What a reload did to the configuration, in words for the log and the admin API's answer.
    enum Outcome {
        case applied(generation: Int)
        case refused(String)
    }

    /// The configuration's outcome, and the identity's when there is one.
    func reload() async -> (configuration: Outcome, identity: IdentityReloader.Outcome?) {
        let source = path
        // Read on the thread pool: a file read blocks.
        let loaded: Result<ProxyConfiguration, CommandFailure>
        do {
            loaded = .success(
                try await NIOThreadPool.singleton.runIfActive { try ConfigurationFile.load(path: source) })
        } catch {
            loaded = .failure(error as? CommandFailure ?? .badInput("\(error)"))
        }
        let configuration = serial.withLock { _ in apply(loaded) }
        return (configuration, await identity?.refresh())
    }

    /// `POST /reload`: 200 with the new generation and what became of the identity, or 422 with every problem of
    /// the file or of the identity files.
    var endpoint: HTTPEndpoint {
        HTTPEndpoint(method: .POST, path: "/reload") { _ in
            let (configuration, identity) = await self.reload()
            var refused = false
            var body: String
            switch configuration {
            case .applied(let generation): body = "reloaded: generation \(generation)\n"
            case .refused(let reason):
                refused = true
                body = "reload refused:\n\(reason)\n"
            }
            switch identity {
            case nil: break
            case .unchanged: body += "identity: unchanged\n"
            case .renewed(let identity):
                body += "identity: renewed: \(identity.id), valid until \(identity.notValidAfter.formatted(.iso8601))\n"
            case .refused(let reason):
                refused = true
                body += "identity refused, the identity in force serves on:\n\(reason)\n"
            }
            return HTTPEndpointResponse(status: refused ? .unprocessableEntity : .ok, body: body)
        }
    }

    private func apply(_ file: Result<ProxyConfiguration, CommandFailure>) -> Outcome {
        let loaded: ProxyConfiguration
        switch file {
        case .success(let configuration): loaded = configuration
        case .failure(let error):
            store.recordFailedReload(error.message)
            logRefusal(error.message)
            return .refused(error.message)
        }
        // The identity was checked whole at start; a file naming other identity files would put an unchecked set
        // in force. (New contents of the same files are the identity's own rotation, not a reload's.)
        guard loaded.identity == store.current.identity else {
            let reason = "identity: where the identity files are read changes only with a restart"
            store.recordFailedReload(reason)
            logRefusal(reason)
            return .refused(reason)
        }
        switch store.replace(with: loaded) {
        case .success(let generation):
            recorder.reloaded(applied: true)
            logger.notice("configuration reloaded", metadata: ["generation": "\(generation)"])
            return .applied(generation: generation)
        case .failure(let refusal):
            logRefusal(refusal.reason)
            return .refused(refusal.reason)
        }
    }

    /// With the count of refused reloads so far, which only rises: an operator sees a bad rollout from the log.
    private func logRefusal(_ problems: String) {
        recorder.reloaded(applied: false)
        logger.error(
            "configuration reload refused",
            metadata: ["problems": "\(problems)", "failedReloads": "\(store.status.failedReloads)"])
    }
}
