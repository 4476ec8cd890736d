import NIOCore
import Policy
import Telemetry

/// One event loop's kept-alive HTTP/1.1 upstream connections, by destination, which the requests of any client
/// connection on that loop take again: a client that opens a connection per request (or closes with
/// `Connection: close`) then costs the upstream no new connection, and the pod no TIME-WAIT in the app's port
/// range. A connection comes back only once its response was read in full and both ends keep it alive; it waits
/// at most `idleTimeout`, and a destination keeps at most `maxIdlePerDestination`. Used only on its event loop.
final class HTTP1ConnectionPool {
    /// Connections are shared only where they go to the same place from the same source address.
    struct Key: Hashable {
        let direction: TrafficDirection
        let endpoint: SocketAddress
    }

    private struct Idle {
        let channel: Channel
        let expiry: Scheduled<Void>
    }

    let eventLoop: EventLoop
    /// Below the keep-alive timeouts servers commonly use (Node's 5 s), so the proxy closes an idle connection
    /// before the server does, rather than meeting the server's close with a request.
    let idleTimeout: TimeAmount
    let maxIdlePerDestination: Int
    /// Counts the connections waiting here, and the requests that took one.
    private let recorder: TrafficRecorder
    private var idle: [Key: [Idle]] = [:]
    /// Connections out with a holder, each with what completes when it is done with them.
    private var leases: [ObjectIdentifier: EventLoopPromise<Void>] = [:]

    init(
        eventLoop: EventLoop, recorder: TrafficRecorder, idleTimeout: TimeAmount = .seconds(4),
        maxIdlePerDestination: Int = 32
    ) {
        self.eventLoop = eventLoop
        self.recorder = recorder
        self.idleTimeout = idleTimeout
        self.maxIdlePerDestination = maxIdlePerDestination
    }

    /// The connection to `key` that went idle last, if one is still open.
    func take(_ key: Key) -> UpstreamLease? {
        while var waiting = idle[key], let newest = waiting.popLast() {
            idle[key] = waiting.isEmpty ? nil : waiting
            newest.expiry.cancel()
            recorder.upstreamPoolChanged(protocol: "http1", holds: false)
            if newest.channel.isActive {
                recorder.upstreamPoolReused(protocol: "http1")
                return lease(newest.channel, key: key, reused: true)
            }
        }
        return nil
    }

    /// A connection just opened to `key`, leased to whoever opened it; it may come back once its response is read.
    func lease(opened channel: Channel, key: Key) -> UpstreamLease {
        channel.closeFuture.assumeIsolated().whenComplete { _ in self.closed(channel, key: key) }
        return lease(channel, key: key, reused: false)
    }

    private func lease(_ channel: Channel, key: Key, reused: Bool) -> UpstreamLease {
        let ended = eventLoop.makePromise(of: Void.self)
        leases[ObjectIdentifier(channel)] = ended
        var lease = UpstreamLease(channel: channel, reused: reused, ended: ended.futureResult)
        lease.poolKey = key
        return lease
    }

    /// Back from its holder with its last response read in full: kept for the next request to `key`, or closed when
    /// that destination already has as many waiting as it may.
    func handBack(_ channel: Channel, key: Key) {
        endLease(of: channel)
        guard channel.isActive, idle[key, default: []].count < maxIdlePerDestination else {
            channel.close(promise: nil)
            return
        }
        let expiry = eventLoop.assumeIsolated().scheduleTask(in: idleTimeout) { channel.close(promise: nil) }
        idle[key, default: []].append(Idle(channel: channel, expiry: expiry))
        recorder.upstreamPoolChanged(protocol: "http1", holds: true)
    }

    /// The connection closed: out with a holder, or idle here (the server closed it, or it waited too long).
    private func closed(_ channel: Channel, key: Key) {
        endLease(of: channel)
        guard var waiting = idle[key], let index = waiting.firstIndex(where: { $0.channel === channel }) else { return }
        waiting.remove(at: index).expiry.cancel()
        idle[key] = waiting.isEmpty ? nil : waiting
        recorder.upstreamPoolChanged(protocol: "http1", holds: false)
    }

    private func endLease(of channel: Channel) {
        leases.removeValue(forKey: ObjectIdentifier(channel))?.succeed()
    }
}
