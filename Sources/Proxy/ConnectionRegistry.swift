import NIOCore
import Synchronization
import Telemetry

/// The client connections the proxy is relaying, across all event loops: what a drain waits for, what it closes when
/// the drain time runs out, and what `/connections` lists.
///
/// NIO's `ServerQuiescingHelper` tracks one server channel's children but cannot close them at a deadline; this
/// registry spans every listener and can.
public final class ConnectionRegistry: Sendable {
    private struct Entry {
        let channel: Channel
        /// Read only on the connection's own event loop.
        let record: NIOLoopBound<ConnectionRecord>
    }

    private struct State {
        var open: [ObjectIdentifier: Entry] = [:]
        /// Set by `closeAll`: a connection accepted after it (on another event loop) is closed at once.
        var isClosing = false
        var emptyWaiters: [CheckedContinuation<Void, Never>] = []
    }

    private let state = Mutex(State())

    public init() {}

    /// Tracks `channel` until it closes.
    func register(_ channel: Channel, record: NIOLoopBound<ConnectionRecord>) {
        let id = ObjectIdentifier(channel)
        let accepted = state.withLock { state in
            if !state.isClosing { state.open[id] = Entry(channel: channel, record: record) }
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

    /// Tells every open connection that a drain began: HTTP/1.1 closes idle keep-alive connections and marks the
    /// next response `Connection: close`, HTTP/2 sends GOAWAY (NIO's `ChannelShouldQuiesceEvent` path); relayed
    /// bytes have no way to be told and simply get the drain time.
    ///
    /// A connection still reading its first bytes holds the event and passes it on after them; one whose record says
    /// a drain was asked for before it had handlers is told when detection starts.
    public func quiesceAll() {
        let open = state.withLock { Array($0.open.values) }
        for entry in open {
            entry.channel.eventLoop.execute {
                entry.record.value.drainRequested = true
                entry.channel.pipeline.fireUserInboundEventTriggered(ChannelShouldQuiesceEvent())
            }
        }
    }

    /// Cuts every open connection with a reset (the drain time is over: a FIN would make a cut stream look complete);
    /// they leave the registry as their close completes.
    public func closeAll() {
        let open = state.withLock { state in
            state.isClosing = true
            return state.open.values.map(\.channel)
        }
        for channel in open {
            channel.reset()
        }
    }

    /// The open connections as their access log lines would read now, each read on its own event loop.
    public func openConnections() -> [EventLoopFuture<AccessLogEntry>] {
        state.withLock { state in
            state.open.values.map { entry in
                entry.channel.eventLoop.submit { entry.record.value.entry() }
            }
        }
    }
}
