import Foundation

/// The sources whose new connections are reset at accept, each until its block expires. Bounded: a new block in a
/// full table lifts the oldest one first, so that an attacker showing many addresses cannot exhaust memory.
struct BlockTable: Sendable {
    private var blocks: [[UInt8]: IntrusionBlock] = [:]
    /// Sources in the order they were blocked, for lifting the oldest; an entry whose block was lifted or renewed
    /// since is skipped (its sequence number no longer matches).
    private var order: [(source: [UInt8], sequence: Int)] = []
    private var orderStart = 0
    private var nextSequence = 0

    var count: Int { blocks.count }

    func isBlocked(_ source: [UInt8], now: ContinuousClock.Instant) -> Bool {
        guard let block = blocks[source] else { return false }
        return now < block.until
    }

    /// Blocks `source` (again, from now, when it already was).
    mutating func block(_ source: [UInt8], _ block: IntrusionBlock, capacity: Int) {
        var block = block
        block.sequence = nextSequence
        nextSequence += 1
        if blocks[source] == nil {
            while blocks.count >= max(capacity, 1), orderStart < order.count {
                let oldest = order[orderStart]
                orderStart += 1
                if blocks[oldest.source]?.sequence == oldest.sequence { blocks[oldest.source] = nil }
            }
        }
        blocks[source] = block
        order.append((source, block.sequence))
        compactOrder()
    }

    /// - Returns: whether the source was blocked.
    mutating func lift(_ source: [UInt8]) -> Bool {
        blocks.removeValue(forKey: source) != nil
    }

    /// The blocks in force, oldest first; expired ones are dropped on the way.
    mutating func active(now: ContinuousClock.Instant) -> [IntrusionBlock] {
        blocks = blocks.filter { now < $0.value.until }
        return blocks.values.sorted { $0.sequence < $1.sequence }
    }

    /// Drops the order's consumed and stale entries once they are most of it, so it stays proportional to the table.
    private mutating func compactOrder() {
        guard order.count > 64, order.count > 2 * max(blocks.count, 1) else { return }
        order = order[orderStart...].filter { blocks[$0.source]?.sequence == $0.sequence }
        orderStart = 0
    }
}
