import Logging
import Policy
import Proxy
import SidecarCLI
import Synchronization
import Telemetry

/// Reloads the configuration file on request (SIGHUP, `POST /reload`): the new file is validated first, and a bad
/// one is refused with its problems logged while the configuration in force keeps serving.
final class ConfigurationReloader: Sendable {
    let path: String?
    let store: ConfigurationStore
    let recorder: TrafficRecorder
    let logger: Logger
    /// One reload at a time (SIGHUP and `POST /reload` arrive on different threads): an older file must never be
    /// applied after a newer one.
    private let serial = Mutex(())

    init(path: String?, store: ConfigurationStore, recorder: TrafficRecorder, logger: Logger) {
        self.path = path
        self.store = store
        self.recorder = recorder
        self.logger = logger
    }

    /// What a reload did, in words for the log and the admin API's answer.
    enum Outcome {
        case applied(generation: Int)
        case refused(String)
    }

    func reload() -> Outcome {
        serial.withLock { _ in reloadNow() }
    }

    /// `POST /reload`: 200 with the new generation, or 422 with every problem of the file.
    var endpoint: HTTPEndpoint {
        HTTPEndpoint(method: .POST, path: "/reload", mayBlock: true) { _ in
            switch self.reload() {
            case .applied(let generation): HTTPEndpointResponse(body: "reloaded: generation \(generation)\n")
            case .refused(let reason):
                HTTPEndpointResponse(status: .unprocessableEntity, body: "reload refused:\n\(reason)\n")
            }
        }
    }

    private func reloadNow() -> Outcome {
        let loaded: ProxyConfiguration
        do {
            loaded = try ConfigurationFile.load(path: path)
        } catch {
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
