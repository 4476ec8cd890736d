import Synchronization

/// Whether the proxy should receive traffic (ready) and whether it is alive; read by the probe endpoints.
public final class HealthState: Sendable {
    private let ready = Atomic(false)

    public init() {}

    /// True once every listener is bound, false again as soon as a drain starts: probes then report the pod as not
    /// ready while it finishes its open connections.
    public var isReady: Bool { ready.load(ordering: .acquiring) }

    public func markReady() { ready.store(true, ordering: .releasing) }

    public func markDraining() { ready.store(false, ordering: .releasing) }
}
