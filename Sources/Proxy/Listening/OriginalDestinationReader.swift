import NIOCore

/// Recovers a redirected connection's original destination. A protocol so that tests can hand in a fixed one.
public protocol OriginalDestinationReader: Sendable {
    /// Called on the channel's event loop, once, when the connection is accepted.
    func originalDestination(of channel: Channel) -> EventLoopFuture<OriginalDestination>
}
