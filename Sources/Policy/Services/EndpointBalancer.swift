import Foundation

/// Chooses the endpoint for each new connection of one service, and keeps what that choice needs: open
/// connections, connect latency, and failures that leave an endpoint out for a while (outlier ejection). Pure:
/// time and randomness are passed in, so every rule here is tested without sockets or waiting.
public struct EndpointBalancer<Address: Hashable & Sendable>: Sendable {
    public let balancer: ServiceDefinition.Balancer
    public let outlierDetection: ServiceDefinition.OutlierDetection?
    public private(set) var addresses: [Address] = []
    private var states: [Address: State] = [:]
    private var nextInTurn = 0

    /// What is known of one endpoint.
    struct State: Sendable {
        var open = 0
        /// Peak-EWMA of connect latency, in seconds; nil before the first connect.
        var latency: Double?
        var latencyUpdated: ContinuousClock.Instant?
        var consecutiveFailures = 0
        /// How many times in a row it was left out, for doubling the next ejection.
        var ejections = 0
        var ejectedUntil: ContinuousClock.Instant?
        /// False while active health checks have it out of rotation.
        var inRotation = true
    }

    /// A new endpoint's latency until measured (linkerd2-proxy's default).
    static var unmeasuredLatency: Double { 0.03 }
    /// How fast old latency samples fade.
    static var decay: Double { 10 }

    public init(balancer: ServiceDefinition.Balancer, outlierDetection: ServiceDefinition.OutlierDetection?) {
        self.balancer = balancer
        self.outlierDetection = outlierDetection
    }

    /// Puts a new set of endpoints in place (after resolving names again). What is known of endpoints that remain
    /// is kept; endpoints that left are forgotten once their last connection is released.
    public mutating func update(_ addresses: [Address]) {
        var seen = Set<Address>()
        self.addresses = addresses.filter { seen.insert($0).inserted }
        for address in self.addresses where states[address] == nil { states[address] = State() }
        states = states.filter { seen.contains($0.key) || $0.value.open > 0 }
    }

    /// The endpoint for a new connection, other than those in `excluding` (already tried by it). Endpoints that
    /// failed their health checks or were ejected are passed over unless nothing else is left: a service is never
    /// left with no endpoint at all.
    public mutating func pick(
        excluding: Set<Address> = [], now: ContinuousClock.Instant, using random: inout some RandomNumberGenerator
    ) -> Address? {
        let untried = addresses.filter { !excluding.contains($0) }
        let available = untried.filter { states[$0]?.inRotation != false && !isEjected($0, now: now) }
        let candidates = available.isEmpty ? untried : available
        guard !candidates.isEmpty else { return nil }
        switch balancer {
        case .roundRobin:
            // The turn runs over every endpoint, so leaving one out does not shift the others' turns.
            for _ in 0..<addresses.count {
                let address = addresses[nextInTurn % addresses.count]
                nextInTurn = (nextInTurn + 1) % addresses.count
                if candidates.contains(address) { return address }
            }
            return candidates.first
        case .leastRequest:
            return twoChoices(candidates, using: &random) { Double(states[$0]?.open ?? 0) }
        case .peakEWMA:
            return twoChoices(candidates, using: &random) { cost(of: $0, now: now) }
        }
    }

    /// The cheaper of two distinct endpoints chosen at random: nearly as good as the cheapest of all, without the
    /// herd that always choosing the cheapest sends to one endpoint.
    private func twoChoices(
        _ candidates: [Address], using random: inout some RandomNumberGenerator, cost: (Address) -> Double
    ) -> Address {
        guard candidates.count > 1 else { return candidates[0] }
        let first = Int.random(in: 0..<candidates.count, using: &random)
        var second = Int.random(in: 0..<(candidates.count - 1), using: &random)
        if second >= first { second += 1 }
        return cost(candidates[second]) < cost(candidates[first]) ? candidates[second] : candidates[first]
    }

    /// Peak-EWMA latency, faded towards nothing since its last sample, times the load it would share.
    public func cost(of address: Address, now: ContinuousClock.Instant) -> Double {
        guard let state = states[address] else { return .infinity }
        var latency = state.latency ?? Self.unmeasuredLatency
        if let updated = state.latencyUpdated {
            latency *= exp(-(now - updated).inSeconds / Self.decay)
        }
        return latency * Double(state.open + 1)
    }

    /// A connection to `address` opened after `latency`, or, with `latency` nil, one kept open from an earlier
    /// request taken again (no sample: reuse says nothing of how fast the endpoint connects): it counts as open until
    /// `released`. Opening is not yet success (an endpoint may accept and then answer only 503): `succeeded` says
    /// that.
    public mutating func connected(_ address: Address, after latency: Duration?, now: ContinuousClock.Instant) {
        guard var state = states[address] else { return }
        state.open += 1
        guard let sample = latency?.inSeconds else {
            states[address] = state
            return
        }
        if let previous = state.latency, let updated = state.latencyUpdated, sample < previous {
            let weight = exp(-(now - updated).inSeconds / Self.decay)
            state.latency = previous * weight + sample * (1 - weight)
        } else {
            // A sample above the average replaces it at once: a slowdown is believed at once, a recovery slowly.
            state.latency = sample
        }
        state.latencyUpdated = now
        states[address] = state
    }

    public mutating func released(_ address: Address) {
        guard var state = states[address] else { return }
        state.open = max(0, state.open - 1)
        if state.open == 0, !addresses.contains(address) {
            states[address] = nil
        } else {
            states[address] = state
        }
    }

    /// An answer from `address` that went well (an HTTP response below 500, or for a relayed connection the connect
    /// itself): its failures in a row end.
    public mutating func succeeded(_ address: Address) {
        states[address]?.consecutiveFailures = 0
    }

    /// A connect to `address` failed, or it answered with a 5xx. Enough in a row leave it out, unless every other
    /// endpoint is out already.
    public mutating func failed(_ address: Address, now: ContinuousClock.Instant) {
        guard var state = states[address], let outlierDetection else { return }
        state.consecutiveFailures += 1
        defer { states[address] = state }
        guard state.consecutiveFailures >= outlierDetection.consecutiveFailures, !isEjected(address, now: now) else {
            return
        }
        let othersIn = addresses.contains { $0 != address && isInRotation($0) && !isEjected($0, now: now) }
        guard othersIn else { return }
        // Back soon after its last ejection ended: out twice as long as last time (up to the longest).
        let recentlyBack = state.ejectedUntil.map { now - $0 < outlierDetection.ejectionTime * 10 } ?? false
        state.ejections = recentlyBack ? state.ejections + 1 : 1
        let length = min(
            outlierDetection.ejectionTime * (1 << min(state.ejections - 1, 16)), outlierDetection.longestEjection)
        state.ejectedUntil = now + length
        state.consecutiveFailures = 0
    }

    /// Active health checks took `address` out of rotation, or brought it back.
    public mutating func setInRotation(_ address: Address, _ inRotation: Bool) {
        states[address]?.inRotation = inRotation
    }

    public func isInRotation(_ address: Address) -> Bool { states[address]?.inRotation ?? true }

    public func isEjected(_ address: Address, now: ContinuousClock.Instant) -> Bool {
        states[address]?.ejectedUntil.map { now < $0 } ?? false
    }

    /// Open connections per endpoint, for the admin API.
    public func openConnections(to address: Address) -> Int { states[address]?.open ?? 0 }
}
