import Foundation
import Interception
import SidecarCLI
import Testing

@testable import Netfilter

/// A batch the kernel refuses part-way changes nothing: the ruleset installed before stays in force.
@Suite struct AtomicInstallTests {
    @Test func aBatchRefusedPartWayLeavesThePreviousRulesetInForce() throws {
        #expect(getuid() == 0, "needs root (CAP_NET_ADMIN) to program nftables in a network namespace")
        let namespace = "scatomic\(getpid())"
        try run(["ip", "netns", "add", namespace])
        defer { try? run(["ip", "netns", "del", namespace]) }

        let plan = InterceptionPlanner.ruleset(for: InterceptionConfig())
        // The kernel refuses chain names over NFT_CHAIN_MAXNAMELEN (256): this batch fails at its fourth message,
        // after the table has already been deleted and recreated within it.
        var unacceptable = plan
        unacceptable.chains[1].name = String(repeating: "x", count: 300)
        let refused = unacceptable

        let (installed, refusal, afterwards) = try inNamespace("/run/netns/\(namespace)") {
            let connection = try NftablesConnection()
            try connection.install(plan)
            let before = try connection.table(named: plan.table)
            var refusal: NetfilterError?
            do {
                try connection.install(refused)
            } catch let error as NetfilterError {
                refusal = error
            }
            return (before, refusal, try connection.table(named: plan.table))
        }
        #expect(installed?.drift(from: plan).isEmpty == true)
        #expect(refusal?.operation.hasPrefix("add chain xxxx") == true, "\(String(describing: refusal))")
        #expect(afterwards?.drift(from: plan).isEmpty == true)
        #expect(afterwards?.matchesRecordedPlan == true)
    }

    /// Runs `body` on a thread of its own inside the namespace: a namespace belongs to a thread, and the test's
    /// other threads must stay where they are.
    private func inNamespace<Result: Sendable>(_ path: String, _ body: @escaping @Sendable () throws -> Result) throws
        -> Result
    {
        nonisolated(unsafe) var outcome: Swift.Result<Result, Error> = .failure(CancellationError())
        let done = DispatchSemaphore(value: 0)
        let thread = Thread {
            outcome = Swift.Result {
                try NetworkNamespace.enter(path: path)
                return try body()
            }
            done.signal()
        }
        thread.start()
        done.wait()
        return try outcome.get()
    }

    private func run(_ arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        try process.run()
        process.waitUntilExit()
        if process.terminationStatus != 0 { throw CocoaError(.executableLoad) }
    }
}
