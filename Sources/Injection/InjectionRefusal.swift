/// Why an object cannot be injected: every problem found, for the operator to fix or to opt the workload out with
/// `swift-sidecar.io/inject: "false"`. Nothing is written when any object is refused.
public struct InjectionRefusal: Error, CustomStringConvertible, Sendable {
    /// `Deployment shop/web`, or the document's place in the input when it has no name.
    public var object: String?
    public let problems: [String]

    public init(object: String? = nil, problems: [String]) {
        self.object = object
        self.problems = problems
    }

    public var description: String {
        (object.map { "\($0): " } ?? "") + problems.joined(separator: "; ")
    }
}
