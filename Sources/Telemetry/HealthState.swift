import Synchronization

/// Whether the proxy should receive traffic (ready) and whether it is alive; read by the probe endpoints.
public final class HealthState: Sendable {
    private let ready = Atomic(false)
    private let draining = Atomic(false)
    /// What else readiness needs once the listeners are bound: nil when it is met, else why not.
    private let requirement: @Sendable () -> String?

    public init(requirement: @escaping @Sendable () -> String? = { nil }) {
        self.requirement = requirement
    }

    /// Nil when ready. Not ready until every listener is bound, again as soon as a drain starts (probes then report
    /// the pod as not ready while it finishes its open connections), and while the requirement is not met.
    public var notReadyReason: String? {
        if draining.load(ordering: .acquiring) { return "draining" }
        guard ready.load(ordering: .acquiring) else { return "starting" }
        return requirement()
    }

    public func markReady() { ready.store(true, ordering: .releasing) }

    public func markDraining() { draining.store(true, ordering: .releasing) }
}
