import Policy
import Testing

@testable import Proxy

@Suite struct TrafficLimiterTests {
    @Test func placesAreTakenAndGivenBack() {
        let limiter = TrafficLimiter()
        var two = TrafficLimit(name: "two")
        two.maxConnections = 2
        two.maxRequests = 1
        var other = TrafficLimit(name: "other")
        other.maxConnections = 1
        #expect(limiter.acquire(.connections, under: two) && limiter.acquire(.connections, under: two))
        #expect(!limiter.acquire(.connections, under: two))
        #expect(limiter.acquire(.requests, under: two), "each counter counts on its own")
        #expect(!limiter.acquire(.requests, under: two))
        #expect(limiter.acquire(.connections, under: other), "each limit counts its own connections")
        limiter.release(.connections, under: two)
        #expect(limiter.acquire(.connections, under: two))
    }

    /// An entry edited by a reload (same name) keeps what it counted and the tokens its bucket had; one a reload
    /// removes loses its bucket.
    @Test func anEditedEntryKeepsItsCountsAndARemovedOneIsLetGo() {
        let limiter = TrafficLimiter()
        var before = TrafficLimit(name: "api")
        before.maxConnections = 2
        before.rate = RequestRate(perSecond: 0.001, burst: 2)
        let now = ContinuousClock.now
        #expect(limiter.acquire(.connections, under: before) && limiter.acquire(.connections, under: before))
        #expect(limiter.takeToken(under: before, now: now) == nil && limiter.takeToken(under: before, now: now) == nil)
        var after = before
        after.maxConnections = 3
        after.rate = RequestRate(perSecond: 0.001, burst: 10)
        #expect(limiter.acquire(.connections, under: after), "one more place, not three")
        #expect(!limiter.acquire(.connections, under: after))
        #expect(limiter.takeToken(under: after, now: now) != nil, "the edit handed out no fresh burst")
        limiter.prune(keeping: [])
        #expect(limiter.takeToken(under: after, now: now) == nil, "a removed entry's bucket is gone")
    }

    @Test func aBoundTheLimitDoesNotSetNeverRefuses() {
        let limiter = TrafficLimiter()
        var limit = TrafficLimit(name: "connections only")
        limit.maxConnections = 1
        for _ in 0..<10 { #expect(limiter.acquire(.requests, under: limit)) }
        #expect(limiter.takeToken(under: limit) == nil)
    }

    @Test func tokensAreSharedByEveryConnectionUnderTheLimit() {
        let limiter = TrafficLimiter()
        var limit = TrafficLimit(name: "rate")
        limit.rate = RequestRate(perSecond: 1, burst: 2)
        let now = ContinuousClock.now
        #expect(limiter.takeToken(under: limit, now: now) == nil)
        #expect(limiter.takeToken(under: limit, now: now) == nil)
        let wait = limiter.takeToken(under: limit, now: now)
        #expect(wait == .seconds(1))
        #expect(limiter.takeToken(under: limit, now: now + .seconds(1)) == nil, "refilled after the wait it named")
    }
}
