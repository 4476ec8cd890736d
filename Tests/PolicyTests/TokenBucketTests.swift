import Policy
import Testing

@Suite struct TokenBucketTests {
    let start = ContinuousClock.now

    @Test func aFullBucketServesItsBurstAtOnce() {
        var bucket = TokenBucket(rate: RequestRate(perSecond: 10, burst: 3), now: start)
        #expect(bucket.take(at: start) == nil)
        #expect(bucket.take(at: start) == nil)
        #expect(bucket.take(at: start) == nil)
        #expect(bucket.take(at: start) == .milliseconds(100), "the next token is a tenth of a second away")
    }

    @Test func tokensRefillAtTheRateUpToTheBurst() {
        var bucket = TokenBucket(rate: RequestRate(perSecond: 2, burst: 2), now: start)
        _ = bucket.take(at: start)
        _ = bucket.take(at: start)
        #expect(bucket.take(at: start + .milliseconds(250)) == .milliseconds(250), "half a token so far")
        #expect(bucket.take(at: start + .milliseconds(500)) == nil)
        // An hour idle fills the bucket to its burst, no more.
        let later = start + .seconds(3600)
        #expect(bucket.take(at: later) == nil && bucket.take(at: later) == nil)
        #expect(bucket.take(at: later) != nil)
    }

    @Test func aSlowRateSaysHowLongToWait() {
        var bucket = TokenBucket(rate: RequestRate(perSecond: 0.5), now: start)
        #expect(bucket.rate.burst == 1, "a burst defaults to a second's worth, at least one")
        #expect(bucket.take(at: start) == nil)
        #expect(bucket.take(at: start) == .seconds(2))
    }

    @Test func timeGoingBackwardsAddsNothing() {
        var bucket = TokenBucket(rate: RequestRate(perSecond: 1, burst: 1), now: start)
        _ = bucket.take(at: start)
        #expect(bucket.take(at: start - .seconds(5)) != nil)
    }
}
