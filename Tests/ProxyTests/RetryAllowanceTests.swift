import NIOCore
import Testing

@testable import Proxy

/// The one retry rule of HTTP/1.1 requests and HTTP/2 streams.
@Suite struct RetryAllowanceTests {
    let endpointA = try! SocketAddress(ipAddress: "10.0.0.1", port: 80)
    let endpointB = try! SocketAddress(ipAddress: "10.0.0.2", port: 80)

    @Test func anUnprocessedRequestGoesAgainOnceForFree() {
        var allowance = RetryAllowance(replayable: true, retries: 0)
        let first = allowance.next(after: .unprocessed, at: endpointA) { _ in
            Issue.record("a resend spent from the budget")
            return true
        }
        #expect(first == .resend(excluding: []))
        // Refused again: no retries are left, so it is not sent a third time.
        #expect(allowance.next(after: .unprocessed, at: endpointA) { _ in true } == nil)
    }

    @Test func aSecondRefusalCountsAsAFailureOfTheEndpoint() {
        var allowance = RetryAllowance(replayable: true, retries: 1)
        #expect(allowance.next(after: .unprocessed, at: endpointA) { _ in true } == .resend(excluding: []))
        #expect(
            allowance.next(after: .unprocessed, at: endpointA) { _ in true }
                == .elsewhere(excluding: [endpointA], feedback: 502))
    }

    @Test func failuresGoElsewhereWithinTheRetriesAndAvoidEveryEndpointThatFailed() {
        var allowance = RetryAllowance(replayable: true, retries: 2)
        var asked: [Set<SocketAddress>] = []
        let budget = { (tried: Set<SocketAddress>) in
            asked.append(tried)
            return true
        }
        #expect(
            allowance.next(after: .failed(feedback: 503), at: endpointA, mayRetry: budget)
                == .elsewhere(excluding: [endpointA], feedback: 503))
        #expect(
            allowance.next(after: .failed(feedback: 502), at: endpointB, mayRetry: budget)
                == .elsewhere(excluding: [endpointA, endpointB], feedback: 502))
        #expect(allowance.next(after: .failed(feedback: 502), at: endpointA, mayRetry: budget) == nil)
        #expect(asked == [[endpointA], [endpointA, endpointB]])
        // A later refusal still gets its free resend, avoiding the endpoints that failed.
        #expect(
            allowance.next(after: .unprocessed, at: endpointA) { _ in true }
                == .resend(excluding: [endpointA, endpointB]))
    }

    @Test func theBudgetRefusingLeavesTheAllowanceAsItWas() {
        var allowance = RetryAllowance(replayable: true, retries: 1)
        #expect(allowance.next(after: .failed(feedback: 502), at: endpointA) { _ in false } == nil)
        #expect(allowance.tried.isEmpty)
        #expect(
            allowance.next(after: .failed(feedback: 502), at: endpointB) { _ in true }
                == .elsewhere(excluding: [endpointB], feedback: 502))
    }

    @Test func aRequestThatMayNotGoTwiceNeverDoes() {
        var allowance = RetryAllowance(replayable: false, retries: 3)
        #expect(allowance.next(after: .unprocessed, at: endpointA) { _ in true } == nil)
        #expect(allowance.next(after: .failed(feedback: 503), at: endpointA) { _ in true } == nil)
    }

    @Test func onlyGatewayAndUnavailableAnswersFailARequest() {
        #expect(RetryAllowance.Failure(answering: 502) == .failed(feedback: 502))
        #expect(RetryAllowance.Failure(answering: 503) == .failed(feedback: 503))
        for status in [200, 404, 500, 504] { #expect(RetryAllowance.Failure(answering: status) == nil) }
    }

    @Test func onlyIdempotentMethodsMayGoTwice() {
        for method in ["GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE"] {
            #expect(RetryAllowance.mayResend(method: method))
        }
        for method in ["POST", "PATCH", "CONNECT", "get"] { #expect(!RetryAllowance.mayResend(method: method)) }
    }
}
