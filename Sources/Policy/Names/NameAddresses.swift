/// Which addresses each name resolved to lately, from the DNS answers the pod got through the proxy's DNS listener
/// and from the proxy's own lookups of the names its allow rules give: what an allow by name (an SNI or HTTP host
/// rule) checks a connection's original destination against, so that a client claiming an allowed name to any other
/// address is not let through (as Cilium's toFQDNs policies do). A value as of one instant (`asOf`): entries past
/// their TTL no longer count. Bounded in names and in addresses per name.
public struct NameAddresses: Sendable {
    private struct Entry: Sendable {
        var address: [UInt8]
        var expires: ContinuousClock.Instant
    }

    private var entries: [String: [Entry]] = [:]
    /// The instant the value answers for.
    public var asOf: ContinuousClock.Instant

    /// Names kept at most; beyond it, the names whose addresses expire soonest are let go.
    public static let maximumNames = 10_000
    /// Addresses kept per name (the most recent).
    public static let maximumAddressesPerName = 64
    /// An address is kept at least this long, so the connection that follows a zero-TTL answer still finds it, and
    /// at most an hour, as the DNS cache keeps answers.
    public static let shortestLifetime: Duration = .seconds(5)
    public static let longestLifetime: Duration = .seconds(3600)

    public init(asOf: ContinuousClock.Instant = .now) {
        self.asOf = asOf
    }

    /// Takes the addresses an answer for `name` gave, each for its TTL (bounded), from `asOf` on.
    public mutating func learn(_ name: String, addresses: [(address: [UInt8], ttl: UInt32)]) {
        guard !addresses.isEmpty else { return }
        let key = Self.key(name)
        var kept = (entries[key] ?? []).filter { $0.expires > asOf }
        for (address, ttl) in addresses {
            let lifetime = min(max(.seconds(Int(ttl)), Self.shortestLifetime), Self.longestLifetime)
            kept.removeAll { $0.address == address }
            kept.append(Entry(address: address, expires: asOf + lifetime))
        }
        entries[key] = Array(kept.suffix(Self.maximumAddressesPerName))
        if entries.count > Self.maximumNames { letGoOfSoonestToExpire() }
    }

    /// Whether `address` (network-order bytes) is one `name` resolved to and whose TTL has not run out.
    public func covers(_ name: some StringProtocol, address: [UInt8]) -> Bool {
        entries[Self.key(name)]?.contains { $0.address == address && $0.expires > asOf } ?? false
    }

    /// The addresses `name` currently covers.
    public func addresses(of name: some StringProtocol) -> [[UInt8]] {
        (entries[Self.key(name)] ?? []).filter { $0.expires > asOf }.map(\.address)
    }

    /// Names are compared without regard to case or a trailing dot.
    private static func key(_ name: some StringProtocol) -> String {
        let lowered = name.lowercased()
        return lowered.hasSuffix(".") ? String(lowered.dropLast()) : lowered
    }

    private mutating func letGoOfSoonestToExpire() {
        let byExpiry = entries.map { ($0.key, $0.value.map(\.expires).max() ?? asOf) }.sorted { $0.1 < $1.1 }
        for (name, _) in byExpiry.prefix(max(1, entries.count - Self.maximumNames + Self.maximumNames / 10)) {
            entries[name] = nil
        }
    }
}
