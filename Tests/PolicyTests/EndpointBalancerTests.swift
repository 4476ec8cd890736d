import Policy
import TestSupport
import Testing

@Suite struct EndpointBalancerTests {
    let start = ContinuousClock.now
    var random = SeededRandomNumbers(seed: 42)

    func balancer(_ kind: ServiceDefinition.Balancer, failures: Int = 2, ejection: Duration = .seconds(10))
        -> EndpointBalancer<String>
    {
        var detection = ServiceDefinition.OutlierDetection()
        detection.consecutiveFailures = failures
        detection.ejectionTime = ejection
        var balancer = EndpointBalancer<String>(balancer: kind, outlierDetection: detection)
        balancer.update(["a", "b", "c"])
        return balancer
    }

    @Test mutating func roundRobinTakesTurns() {
        var balancer = balancer(.roundRobin)
        let picks = (0..<6).compactMap { _ in balancer.pick(now: start, using: &random) }
        #expect(picks == ["a", "b", "c", "a", "b", "c"])
    }

    @Test mutating func roundRobinPassesOverWhatWasTried() {
        var balancer = balancer(.roundRobin)
        let untried = balancer.pick(excluding: ["a", "b"], now: start, using: &random)
        let none = balancer.pick(excluding: ["a", "b", "c"], now: start, using: &random)
        #expect(untried == "c" && none == nil)
    }

    @Test mutating func leastRequestAvoidsTheBusyEndpoint() {
        var balancer = balancer(.leastRequest)
        for _ in 0..<50 { balancer.connected("a", after: .milliseconds(1), now: start) }
        var counts: [String: Int] = [:]
        for _ in 0..<300 { counts[balancer.pick(now: start, using: &random)!, default: 0] += 1 }
        // "a" is picked only when both choices fell on it, which two distinct choices never do.
        #expect(counts["a"] == nil)
        #expect(counts["b"]! > 100 && counts["c"]! > 100)
    }

    @Test mutating func peakEWMAAvoidsTheSlowEndpoint() {
        var balancer = balancer(.peakEWMA)
        balancer.connected("a", after: .milliseconds(900), now: start)
        balancer.connected("b", after: .milliseconds(2), now: start)
        balancer.connected("c", after: .milliseconds(3), now: start)
        for name in ["a", "b", "c"] { balancer.released(name) }
        var counts: [String: Int] = [:]
        for _ in 0..<300 { counts[balancer.pick(now: start, using: &random)!, default: 0] += 1 }
        #expect(counts["a"] == nil, "\(counts)")
        // A slowdown is believed at once; a recovery only as the old peak fades.
        balancer.connected("b", after: .seconds(2), now: start)
        balancer.released("b")
        #expect(balancer.cost(of: "b", now: start) > balancer.cost(of: "c", now: start))
        balancer.connected("b", after: .milliseconds(1), now: start + .milliseconds(100))
        balancer.released("b")
        #expect(balancer.cost(of: "b", now: start + .milliseconds(100)) > 1.5)
        #expect(balancer.cost(of: "b", now: start + .seconds(60)) < 0.01)
    }

    @Test mutating func consecutiveFailuresEjectForTheEjectionTime() {
        var balancer = balancer(.roundRobin)
        balancer.failed("a", now: start)
        #expect(!balancer.isEjected("a", now: start), "one failure is not a pattern")
        balancer.failed("a", now: start)
        #expect(balancer.isEjected("a", now: start))
        let picks = (0..<4).compactMap { _ in balancer.pick(now: start + .seconds(1), using: &random) }
        #expect(!picks.contains("a"))
        #expect(!balancer.isEjected("a", now: start + .seconds(10)), "back after the ejection time")
    }

    @Test mutating func aSuccessEndsTheRun() {
        var balancer = balancer(.roundRobin)
        balancer.failed("a", now: start)
        balancer.succeeded("a")
        balancer.failed("a", now: start)
        #expect(!balancer.isEjected("a", now: start))
        // A connect that works is not yet an answer: an endpoint that accepts and answers 503 is still ejected.
        balancer.connected("a", after: .milliseconds(1), now: start)
        balancer.failed("a", now: start)
        #expect(balancer.isEjected("a", now: start))
    }

    @Test mutating func anEjectionSoonAfterTheLastDoublesUpToTheLongest() {
        var balancer = balancer(.roundRobin, failures: 1, ejection: .seconds(10))
        balancer.failed("a", now: start)
        #expect(balancer.isEjected("a", now: start + .seconds(9)))
        #expect(!balancer.isEjected("a", now: start + .seconds(10)))
        balancer.failed("a", now: start + .seconds(11))
        #expect(balancer.isEjected("a", now: start + .seconds(30)), "twice as long: 20 s")
        #expect(!balancer.isEjected("a", now: start + .seconds(31)))
        var now = start + .seconds(31)
        for _ in 0..<10 {
            balancer.failed("a", now: now)
            now = now + .seconds(101)
        }
        balancer.failed("a", now: now)
        #expect(balancer.isEjected("a", now: now + .seconds(99)))
        #expect(!balancer.isEjected("a", now: now + .seconds(100)), "never longer than ten ejection times")
    }

    @Test mutating func theLastEndpointInIsNeverEjected() {
        var balancer = balancer(.roundRobin, failures: 1)
        balancer.failed("a", now: start)
        balancer.failed("b", now: start)
        balancer.failed("c", now: start)
        #expect(balancer.isEjected("a", now: start) && balancer.isEjected("b", now: start))
        #expect(!balancer.isEjected("c", now: start))
        let fallback = balancer.pick(excluding: ["c"], now: start, using: &random)
        #expect(fallback != nil, "ejected ones when nothing else")
    }

    @Test mutating func anUpdateKeepsWhatIsKnownOfRemainingEndpoints() {
        var balancer = balancer(.leastRequest, failures: 1)
        balancer.connected("a", after: .milliseconds(1), now: start)
        balancer.failed("b", now: start)
        balancer.update(["b", "d"])
        #expect(balancer.addresses == ["b", "d"])
        #expect(balancer.isEjected("b", now: start))
        #expect(balancer.openConnections(to: "a") == 1, "a connection still open to a removed endpoint")
        balancer.released("a")
        #expect(balancer.openConnections(to: "a") == 0)
        let picks = (0..<20).compactMap { _ in balancer.pick(now: start, using: &random) }
        #expect(picks == Array(repeating: "d", count: 20), "b is out, a is gone")
    }

    @Test mutating func withoutOutlierDetectionNothingIsEjected() {
        var balancer = EndpointBalancer<String>(balancer: .roundRobin, outlierDetection: nil)
        balancer.update(["a", "b"])
        for _ in 0..<100 { balancer.failed("a", now: start) }
        #expect(!balancer.isEjected("a", now: start))
    }
}

@Suite struct RetryBudgetTests {
    @Test func retriesAreBoundedByTheMinimumAndTheRatio() {
        let start = ContinuousClock.now
        var budget = RetryBudget(now: start)
        // The floor: ten a second for ten seconds, banked at once.
        var granted = 0
        while budget.withdraw(now: start) { granted += 1 }
        #expect(granted == 100)
        // Traffic earns a fifth of a retry per connection.
        for _ in 0..<50 { budget.deposit(now: start) }
        granted = 0
        while budget.withdraw(now: start) { granted += 1 }
        #expect(granted == 10)
        // And time refills the floor.
        let refilled = budget.withdraw(now: start + .milliseconds(100))
        let spent = budget.withdraw(now: start + .milliseconds(100))
        #expect(refilled && !spent)
    }
}
