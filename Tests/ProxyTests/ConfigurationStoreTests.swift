import Policy
import Testing

@testable import Proxy

@Suite struct ConfigurationStoreTests {
    @Test func aReloadReplacesThePolicyAndCountsGenerations() throws {
        let store = ConfigurationStore(ProxyConfiguration())
        var next = ProxyConfiguration()
        next.outboundPolicy.defaultAction = .deny
        #expect(try store.replace(with: next).get() == 2)
        #expect(store.current.outboundPolicy.defaultAction == .deny)
    }

    /// What the running process was set up with cannot change under it: refused, counted, the old one stays.
    @Test func listenersAndTheDrainTimeoutCannotChange() {
        let store = ConfigurationStore(ProxyConfiguration())
        var moved = ProxyConfiguration()
        moved.listeners.inbound = 16006
        var drained = ProxyConfiguration()
        drained.timeouts.drain = .seconds(5)
        for refused in [moved, drained] {
            guard case .failure(let error) = store.replace(with: refused) else {
                Issue.record("expected a refusal")
                continue
            }
            #expect(error.reason.contains("cannot change while running"))
        }
        #expect(store.status.failedReloads == 2)
        #expect(store.status.generation == 1)
        #expect(store.current == ProxyConfiguration())
    }
}
