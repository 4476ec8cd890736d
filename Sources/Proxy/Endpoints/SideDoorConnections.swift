import NIOConcurrencyHelpers
import NIOCore

/// The open connections of one side-door server (telemetry, admin), across its event loops, at most `capacity`. One
/// more is let in by closing the connection that has waited longest for a request, so connections held open or left
/// idle cannot keep the kubelet's probes out; only when every connection is busy answering is the new one refused.
final class SideDoorConnections: Sendable {
    private struct Entry {
        let channel: Channel
        /// Since when the connection has waited for a request; nil while one is being answered.
        var waitingSince: NIODeadline?
    }

    private let entries = NIOLockedValueBox([ObjectIdentifier: Entry]())
    let capacity: Int

    init(capacity: Int) {
        self.capacity = capacity
    }

    /// Takes `channel` in, closing the longest-waiting connection to make room; false when there is none to close.
    func admit(_ channel: Channel) -> Bool {
        let evicted = entries.withLockedValue { entries -> Channel?? in
            var evicted: Channel?
            if entries.count >= capacity {
                guard
                    let oldest = entries.filter({ $0.value.waitingSince != nil })
                        .min(by: { $0.value.waitingSince! < $1.value.waitingSince! })
                else { return .none }
                evicted = entries.removeValue(forKey: oldest.key)?.channel
            }
            entries[ObjectIdentifier(channel)] = Entry(channel: channel, waitingSince: .now())
            return .some(evicted)
        }
        guard case .some(let closed) = evicted else { return false }
        closed?.close(promise: nil)
        return true
    }

    /// The connection's request arrived (`waiting` false), or its answer went out (`waiting` true).
    func mark(_ channel: Channel, waiting: Bool) {
        entries.withLockedValue { $0[ObjectIdentifier(channel)]?.waitingSince = waiting ? .now() : nil }
    }

    func remove(_ channel: Channel) {
        _ = entries.withLockedValue { $0.removeValue(forKey: ObjectIdentifier(channel)) }
    }
}
