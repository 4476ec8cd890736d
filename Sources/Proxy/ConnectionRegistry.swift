import NIOCore
import Synchronization

/// The client connections the proxy is relaying, across all event loops: what a drain waits for, and what it
/// closes when the drain time runs out.
///
/// NIO's `ServerQuiescingHelper` tracks one server channel's children but cannot close them at a deadline; this
/// registry spans every listener and can.
public final class ConnectionRegistry: Sendable {
    private struct State {
        var open: [ObjectIdentifier: Channel] = [:]
        /// Set by `closeAll`: a connection accepted after it (on another event loop) is closed at once.
        var isClosing = false
        var emptyWaiters: [CheckedContinuation<Void, Never>] = []
    }

    private let state = Mutex(State())

    public init() {}

    /// Tracks `channel` until it closes.
    public func register(_ channel: Channel) {
        let id = ObjectIdentifier(channel)
        let accepted = state.withLock { state in
            if !state.isClosing { state.open[id] = channel }
            return !state.isClosing
        }
        guard accepted else {
            channel.close(promise: nil)
            return
        }
        channel.closeFuture.whenComplete { _ in
            let waiters = self.state.withLock { state -> [CheckedContinuation<Void, Never>] in
                state.open[id] = nil
                guard state.open.isEmpty else { return [] }
                defer { state.emptyWaiters = [] }
                return state.emptyWaiters
            }
            for waiter in waiters { waiter.resume() }
        }
    }

    public var count: Int { state.withLock { $0.open.count } }

    /// Returns once no connection is open.
    public func waitUntilEmpty() async {
        await withCheckedContinuation { continuation in
            let resumeNow = state.withLock { state in
                if state.open.isEmpty { return true }
                state.emptyWaiters.append(continuation)
                return false
            }
            if resumeNow { continuation.resume() }
        }
    }

    /// Cuts every open connection with a reset (the drain time is over: a FIN would make a cut stream look complete);
    /// they leave the registry as their close completes.
    public func closeAll() {
        let open = state.withLock { state in
            state.isClosing = true
            return Array(state.open.values)
        }
        for channel in open {
            channel.reset()
        }
    }
}
