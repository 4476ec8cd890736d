import Policy
import Synchronization

/// The proxy's one `NameAddresses`, across all event loops: the DNS listener adds what each answer said, and every
/// connection and HTTP request is decided with a snapshot of it (a copy on write, taken under a lock).
public final class NameAddressBook: Sendable {
    private let addresses = Mutex(NameAddresses())

    public init() {}

    /// The addresses as of `now`, for one decision.
    public func snapshot(now: ContinuousClock.Instant = .now) -> NameAddresses {
        var snapshot = addresses.withLock { $0 }
        snapshot.asOf = now
        return snapshot
    }

    /// What an answer for `name` said.
    func learn(_ name: String, addresses answered: [(address: [UInt8], ttl: UInt32)], now: ContinuousClock.Instant) {
        guard !answered.isEmpty else { return }
        addresses.withLock { addresses in
            addresses.asOf = now
            addresses.learn(name, addresses: answered)
        }
    }
}
