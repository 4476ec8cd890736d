/// A compiled signature pattern: a Thompson automaton run as a Pike VM. The text is read once, left to right, and at
/// each byte every live state steps at most once, so a match costs at most the text's length times the program's size
/// (itself bounded): no input, however hostile, can make it backtrack.
public struct Pattern: Sendable, Hashable {
    /// The pattern as written, for messages and configuration dumps.
    public let source: String
    private let program: [Instruction]
    /// What every match contains (nil: not known); see `PatternNode.requiredLiterals`.
    let requiredLiterals: Set<[UInt8]>?

    /// The most instructions a pattern compiles to.
    static let maximumProgramSize = 4096

    enum Instruction: Hashable, Sendable {
        case bytes(ByteSet)
        /// Go on at both; the first is preferred (it only orders equal matches).
        case split(Int, Int)
        case jump(Int)
        case match
    }

    /// Patterns match without regard to ASCII case; the text they are run on is lower-cased by the caller.
    public init(_ source: String) throws(PatternError) {
        let node = try PatternParser.parse(source)
        var program: [Instruction] = []
        try Self.emit(node, into: &program)
        program.append(.match)
        self.source = source
        self.program = program
        requiredLiterals = node.requiredLiterals.flatMap { $0.contains([]) ? nil : $0 }
    }

    public static func == (lhs: Pattern, rhs: Pattern) -> Bool { lhs.source == rhs.source }
    public func hash(into hasher: inout Hasher) { hasher.combine(source) }

    private static func emit(_ node: PatternNode, into program: inout [Instruction]) throws(PatternError) {
        guard program.count < maximumProgramSize else {
            throw PatternError(offset: 0, reason: "compiles to more than \(maximumProgramSize) steps; simplify it")
        }
        switch node {
        case .bytes(let set):
            program.append(.bytes(set))
        case .sequence(let items):
            for item in items { try emit(item, into: &program) }
        case .alternation(let branches):
            // split L1, L2; L1: first; jump end; L2: split ... ; last branch.
            var jumps: [Int] = []
            for (index, branch) in branches.enumerated() {
                if index < branches.count - 1 {
                    let split = program.count
                    program.append(.split(split + 1, 0))
                    try emit(branch, into: &program)
                    jumps.append(program.count)
                    program.append(.jump(0))
                    program[split] = .split(split + 1, program.count)
                } else {
                    try emit(branch, into: &program)
                }
            }
            for jump in jumps { program[jump] = .jump(program.count) }
        case .repetition(let inner, let min, let max):
            for _ in 0..<min { try emit(inner, into: &program) }
            if let max {
                // Each optional copy may be skipped to the end.
                var splits: [Int] = []
                for _ in min..<max {
                    splits.append(program.count)
                    program.append(.split(program.count + 1, 0))
                    try emit(inner, into: &program)
                }
                for split in splits { program[split] = .split(split + 1, program.count) }
            } else {
                let loop = program.count
                program.append(.split(loop + 1, 0))
                try emit(inner, into: &program)
                program.append(.jump(loop))
                program[loop] = .split(loop + 1, program.count)
            }
        }
    }

    /// The first match in `text` (lower-cased ASCII) to end, as byte offsets; nil when there is none.
    public func firstMatch(in text: [UInt8]) -> Range<Int>? {
        var current = ThreadList(capacity: program.count)
        var next = ThreadList(capacity: program.count)
        for position in 0...text.count {
            // A match may start at every position; threads already running started earlier and go first.
            add(0, start: position, to: &current)
            for index in 0..<current.count {
                let (pc, start) = current.threads[index]
                switch program[pc] {
                case .match:
                    return start..<position
                case .bytes(let set):
                    if position < text.count, set.contains(text[position]) { add(pc + 1, start: start, to: &next) }
                case .split, .jump:
                    break
                }
            }
            swap(&current, &next)
            next.clear()
        }
        return nil
    }

    /// Adds the thread at `pc` and every thread its splits and jumps reach without reading a byte, each once.
    private func add(_ pc: Int, start: Int, to list: inout ThreadList) {
        var pending = [pc]
        while let pc = pending.popLast() {
            guard list.insert(pc, start: start) else { continue }
            switch program[pc] {
            case .jump(let target):
                pending.append(target)
            case .split(let preferred, let other):
                pending.append(other)
                pending.append(preferred)
            case .bytes, .match:
                break
            }
        }
    }

    /// The live threads at one position: a sparse set of program counters, each with where its match started.
    private struct ThreadList {
        var threads: [(pc: Int, start: Int)] = []
        private var seen: [Bool]

        init(capacity: Int) {
            seen = Array(repeating: false, count: capacity)
            threads.reserveCapacity(capacity)
        }

        var count: Int { threads.count }

        mutating func insert(_ pc: Int, start: Int) -> Bool {
            guard !seen[pc] else { return false }
            seen[pc] = true
            threads.append((pc, start))
            return true
        }

        mutating func clear() {
            for thread in threads { seen[thread.pc] = false }
            threads.removeAll(keepingCapacity: true)
        }
    }
}
