import Policy
import Testing

@testable import Proxy

@Suite struct ConnectionLimiterTests {
    @Test func placesAreTakenAndGivenBack() {
        let limiter = ConnectionLimiter()
        let two = ConnectionLimit(name: "two", maxConnections: 2)
        let other = ConnectionLimit(name: "other", maxConnections: 1)
        #expect(limiter.acquire(two) && limiter.acquire(two))
        #expect(!limiter.acquire(two))
        #expect(limiter.acquire(other), "each limit counts its own connections")
        limiter.release(two)
        #expect(limiter.acquire(two))
    }
}
