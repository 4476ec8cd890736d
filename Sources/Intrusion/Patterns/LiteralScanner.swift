/// Finds, in one pass over a text, which of many strings occur in it (Aho–Corasick): the prefilter that spares
/// ordinary requests from running every signature's pattern. Its table is indexed by byte class (the bytes the
/// strings use, and one class for all others), so it stays small enough to live in cache.
struct LiteralScanner: Sendable {
    /// Each state's next state, `classCount` entries per state.
    private let transitions: [UInt32]
    private let byteClass: [UInt8]
    private let classCount: Int
    /// For each state, the owners of every string that ends there (its own and its suffixes').
    private let owners: [[Int]]

    /// - Parameter strings: each string with the index of its owner (a signature); empty strings are ignored.
    init(_ strings: [(bytes: [UInt8], owner: Int)]) {
        var classes = [UInt8](repeating: 0, count: 256)
        var classCount = 1
        for (bytes, _) in strings {
            for byte in bytes where classes[Int(byte)] == 0 {
                classes[Int(byte)] = UInt8(classCount)
                classCount += 1
            }
        }
        // The trie: goto[state][class], -1 where there is no edge yet.
        var goto: [[Int]] = [Array(repeating: -1, count: classCount)]
        var owners: [[Int]] = [[]]
        for (bytes, owner) in strings where !bytes.isEmpty {
            var state = 0
            for byte in bytes {
                let symbol = Int(classes[Int(byte)])
                if goto[state][symbol] < 0 {
                    goto[state][symbol] = goto.count
                    goto.append(Array(repeating: -1, count: classCount))
                    owners.append([])
                }
                state = goto[state][symbol]
            }
            if !owners[state].contains(owner) { owners[state].append(owner) }
        }
        // Breadth first: each state's failure link, and its missing edges filled from it (a complete automaton).
        var failure = [Int](repeating: 0, count: goto.count)
        var queue: [Int] = []
        for symbol in 0..<classCount {
            if goto[0][symbol] < 0 {
                goto[0][symbol] = 0
            } else {
                queue.append(goto[0][symbol])
            }
        }
        var head = 0
        while head < queue.count {
            let state = queue[head]
            head += 1
            for owner in owners[failure[state]] where !owners[state].contains(owner) { owners[state].append(owner) }
            for symbol in 0..<classCount {
                let target = goto[state][symbol]
                if target < 0 {
                    goto[state][symbol] = goto[failure[state]][symbol]
                } else {
                    failure[target] = goto[failure[state]][symbol]
                    queue.append(target)
                }
            }
        }
        transitions = goto.flatMap { $0.map { UInt32($0) } }
        byteClass = classes
        self.classCount = classCount
        self.owners = owners
    }

    /// Marks in `found` (indexed by owner) every owner one of whose strings occurs in `text`.
    func scan(_ text: [UInt8], into found: inout [Bool]) {
        var state = 0
        for byte in text {
            state = Int(transitions[state &* classCount &+ Int(byteClass[Int(byte)])])
            for owner in owners[state] { found[owner] = true }
        }
    }
}
