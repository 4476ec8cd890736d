import NIOConcurrencyHelpers

/// The mesh TLS contexts in force: read as each connection is planned, replaced whole when the identity rotates.
/// Open connections keep the contexts they began with.
public final class MeshCredentials: Sendable {
    private let box: NIOLockedValueBox<MeshTLSContexts?>

    public init(_ contexts: MeshTLSContexts?) {
        box = NIOLockedValueBox(contexts)
    }

    /// Nil while the workload has no identity.
    public var current: MeshTLSContexts? { box.withLockedValue { $0 } }

    public func replace(with contexts: MeshTLSContexts) {
        box.withLockedValue { $0 = contexts }
    }
}
