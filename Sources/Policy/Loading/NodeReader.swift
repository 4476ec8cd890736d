import Yams

/// Walks a YAML document, turning nodes into values and recording every problem with its key path, so that a
/// loader can keep going past the first error.
struct NodeReader {
    private(set) var problems: [String] = []

    /// A value that a parser refused, with the reason for the operator.
    struct Invalid: Error, CustomStringConvertible {
        let description: String
        init(_ description: String) { self.description = description }
    }

    mutating func problem(_ path: String, _ message: String) {
        problems.append(path.isEmpty ? message : "\(path): \(message)")
    }

    /// A mapping's fields by key; with `keys`, any other key is a problem.
    mutating func mapping(_ node: Node, at path: String, keys: [String]?) -> [String: Node]? {
        guard let mapping = node.mapping else {
            problem(path.isEmpty ? "(top level)" : path, "expected a mapping of keys, found \(kind(node))")
            return nil
        }
        var fields: [String: Node] = [:]
        for (keyNode, value) in mapping {
            let key = keyNode.string ?? "\(keyNode)"
            let keyPath = path.isEmpty ? key : "\(path).\(key)"
            if let keys, !keys.contains(key) {
                problem(keyPath, "unknown key (expected one of: \(keys.joined(separator: ", ")))")
            } else {
                fields[key] = value
            }
        }
        return fields
    }

    /// A list's items with their paths (`path[0]`, ...).
    mutating func list(_ node: Node, at path: String) -> [(Node, String)] {
        guard let sequence = node.sequence else {
            problem(path, "expected a list, found \(kind(node))")
            return []
        }
        return sequence.enumerated().map { ($1, "\(path)[\($0)]") }
    }

    /// A scalar's text, exactly as written.
    mutating func scalar(_ node: Node, at path: String) -> String? {
        guard let scalar = node.scalar else {
            problem(path, "expected a value, found \(kind(node))")
            return nil
        }
        return scalar.string
    }

    /// A scalar run through `parse`; the parser's error becomes a problem at `path`.
    mutating func parse<Value>(_ node: Node, at path: String, _ parse: (String) throws -> Value) -> Value? {
        guard let text = scalar(node, at: path) else { return nil }
        do {
            return try parse(text)
        } catch {
            problem(path, "\(error)")
            return nil
        }
    }

    /// A whole number within `range`; the problem names the range (an open top reads "above zero").
    mutating func wholeNumber(_ node: Node, at path: String, in range: ClosedRange<Int>) -> Int? {
        parse(node, at: path) { text in
            guard let value = Int(text), range.contains(value) else {
                let bounds =
                    range.upperBound == Int.max && range.lowerBound == 1
                    ? "above zero" : "from \(range.lowerBound) to \(range.upperBound)"
                throw Invalid("'\(text)' is not a whole number \(bounds)")
            }
            return value
        }
    }

    /// A list of scalars (or one scalar, as a list of one), each parsed; nil node → empty.
    mutating func values<Value>(_ node: Node?, at path: String, _ parse: (String) throws -> Value) -> [Value] {
        guard let node else { return [] }
        if node.scalar != nil { return self.parse(node, at: path, parse).map { [$0] } ?? [] }
        let items = list(node, at: path)
        if items.isEmpty && node.sequence != nil {
            // An empty list would be a condition that holds for everything: almost certainly a mistake.
            problem(path, "an empty list; leave the key out to match anything")
        }
        return items.compactMap { item, itemPath in self.parse(item, at: itemPath, parse) }
    }

    /// `true` or `false`, as written (never YAML 1.1's `yes` or `on`).
    mutating func boolean(_ node: Node, at path: String) -> Bool? {
        parse(node, at: path) { text in
            guard let value = Bool(text) else { throw Invalid("'\(text)' is not true or false") }
            return value
        }
    }

    mutating func action(_ node: Node, at path: String) -> PolicyAction? {
        parse(node, at: path) { text in
            guard let action = PolicyAction(rawValue: text) else { throw Invalid("'\(text)' is not allow or deny") }
            return action
        }
    }

    private func kind(_ node: Node) -> String {
        switch node {
        case .mapping: "a mapping"
        case .sequence: "a list"
        default: "a value"
        }
    }
}
