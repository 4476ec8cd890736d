/// A parsed pattern, before it is compiled: the regular-expression core with nothing that needs backtracking.
indirect enum PatternNode: Hashable, Sendable {
    /// One byte of a set (a literal byte is a set of one).
    case bytes(ByteSet)
    case sequence([PatternNode])
    case alternation([PatternNode])
    /// `min` to `max` times (`max` nil: no bound).
    case repetition(PatternNode, min: Int, max: Int?)

    static let empty = PatternNode.sequence([])

    /// The literal byte this node is, when it matches exactly one byte value.
    var literal: UInt8? {
        guard case .bytes(let set) = self else { return nil }
        var only: UInt8?
        for byte in UInt8.min...UInt8.max where set.contains(byte) {
            guard only == nil else { return nil }
            only = byte
        }
        return only
    }

    /// Strings one of which every match contains: a prefilter finds them in one pass over the text, and only then is
    /// the pattern itself run. Nil when no such set is known (the pattern is then run on every text).
    var requiredLiterals: Set<[UInt8]>? {
        switch self {
        case .bytes:
            return literal.map { [[$0]] }
        case .repetition(let node, let min, _):
            return min > 0 ? node.requiredLiterals : nil
        case .alternation(let branches):
            var union = Set<[UInt8]>()
            for branch in branches {
                guard let literals = branch.requiredLiterals else { return nil }
                union.formUnion(literals)
            }
            return union
        case .sequence(let items):
            // Runs of adjacent literal bytes make strings; any item's own set will do too. The best is the set whose
            // shortest string is longest: it is the rarest in ordinary text.
            var candidates: [Set<[UInt8]>] = []
            var run: [UInt8] = []
            for item in items {
                if let byte = item.literal {
                    run.append(byte)
                    continue
                }
                if !run.isEmpty { candidates.append([run]) }
                run = []
                if let literals = item.requiredLiterals { candidates.append(literals) }
            }
            if !run.isEmpty { candidates.append([run]) }
            return candidates.max { Self.strength($0) < Self.strength($1) }
        }
    }

    private static func strength(_ literals: Set<[UInt8]>) -> Int {
        literals.map(\.count).min() ?? 0
    }
}
