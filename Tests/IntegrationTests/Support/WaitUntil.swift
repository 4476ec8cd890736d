import Foundation
import Testing

/// Polls `condition` every 100 ms until it holds, recording an issue when it has not within `timeout`.
/// - Returns: whether it held.
@discardableResult
func waitUntil(
    within timeout: Duration = .seconds(5), _ what: String = "the condition", _ condition: () throws -> Bool
) throws -> Bool {
    let deadline = ContinuousClock.now + timeout
    repeat {
        if try condition() { return true }
        usleep(100_000)
    } while ContinuousClock.now < deadline
    Issue.record("\(what) did not hold within \(timeout)")
    return false
}
