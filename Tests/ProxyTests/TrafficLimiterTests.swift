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
