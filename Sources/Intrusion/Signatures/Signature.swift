/// One request signature: what it is called, how bad a match is, the pattern, and the parts of a request it reads.
public struct Signature: Sendable, Hashable {
    /// Short and stable (`sqli-union-select`): alerts, metrics and `/ids` name a signature by it.
    public let id: String
    public let name: String
    public let severity: Severity
    public let pattern: Pattern
    public let parts: Set<RequestPart>

    public init(id: String, name: String, severity: Severity, pattern: Pattern, parts: Set<RequestPart>) {
        self.id = id
        self.name = name
        self.severity = severity
        self.pattern = pattern
        self.parts = parts
    }

    /// A built-in signature, whose pattern is known to compile (a unit test compiles every one).
    init(_ id: String, _ name: String, _ severity: Severity, _ pattern: String, _ parts: Set<RequestPart>) {
        self.init(id: id, name: name, severity: severity, pattern: try! Pattern(pattern), parts: parts)
    }
}
