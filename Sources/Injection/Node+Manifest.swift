import Yams

/// Building manifest values that read back as what they are: YAML would take a plain `"false"`, `"1337"` or an
/// empty string for a boolean, a number or null, so strings are quoted where they would be misread.
extension Node {
    static func text(_ value: String) -> Node {
        Node(value).tag == Tag(.str) && !yamlOneOneBooleans.contains(value)
            ? Node(value, Tag(.str)) : Node(value, Tag(.str), .doubleQuoted)
    }

    /// Booleans in YAML 1.1, which kubectl's parser reads, that Yams's resolver takes for strings.
    private static let yamlOneOneBooleans: Set<String> = ["y", "Y", "n", "N"]

    static func number(_ value: Int) -> Node {
        Node(String(value), Tag(.int))
    }

    static func flag(_ value: Bool) -> Node {
        Node(value ? "true" : "false", Tag(.bool))
    }

    static func map(_ pairs: KeyValuePairs<String, Node>) -> Node {
        Node(pairs.map { (Node.text($0.key), $0.value) }, Tag(.map))
    }

    static func list(_ items: [Node]) -> Node {
        Node(items, Tag(.seq))
    }

    /// The text of a scalar that is a string or a number (`port: 8080` and `port: http` alike).
    var scalarText: String? {
        scalar?.string
    }

    /// A mapping with one key set, added at the end if new; other nodes are left as they are.
    func setting(_ key: String, to value: Node) -> Node {
        var copy = self
        copy[key] = value
        return copy
    }
}
