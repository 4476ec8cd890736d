import Yams

/// `sidecar-inject -f`: Kubernetes YAML in (several documents, `kind: List`), the same out with the sidecar in
/// every pod template. Objects of other kinds pass through with their content intact. Injecting twice changes
/// nothing. One refused object refuses the whole input, so a partly injected manifest is never applied.
public struct ManifestInjector: Sendable {
    /// What happened to one object, for the summary on standard error.
    public struct Report: Sendable, Equatable {
        public var object: String
        /// Nil when injected; otherwise why the object was left as it was.
        public var unchangedBecause: String?
    }

    public let template: SidecarTemplate

    public init(template: SidecarTemplate) {
        self.template = template
    }

    /// The injected YAML, documents separated by `---`, and a report per pod template found.
    public func inject(yaml: String) throws(InjectionRefusal) -> (yaml: String, reports: [Report]) {
        let documents: [Node]
        do {
            documents = try Array(Yams.compose_all(yaml: yaml))
        } catch {
            throw InjectionRefusal(problems: ["not YAML: \(error)"])
        }
        var reports: [Report] = []
        var refusals: [InjectionRefusal] = []
        var output: [Node] = []
        for (index, document) in documents.enumerated() where !Self.isEmpty(document) {
            do {
                output.append(try inject(document, place: "document \(index + 1)", reports: &reports))
            } catch {
                refusals.append(error)
            }
        }
        guard refusals.isEmpty else {
            throw InjectionRefusal(problems: refusals.map(\.description))
        }
        do {
            return (try output.map { try Yams.serialize(node: $0) }.joined(separator: "---\n"), reports)
        } catch {
            throw InjectionRefusal(problems: ["cannot write the result as YAML: \(error)"])
        }
    }

    /// One object: a List's items each, a workload's pod template, anything else as it is.
    func inject(_ object: Node, place: String, reports: inout [Report]) throws(InjectionRefusal) -> Node {
        let kind = object["kind"]?.string
        let apiVersion = object["apiVersion"]?.string
        if kind == "List", apiVersion == "v1", let items = object["items"]?.sequence {
            var injected: [Node] = []
            for (index, item) in items.enumerated() {
                injected.append(try inject(item, place: "\(place), item \(index + 1)", reports: &reports))
            }
            return object.setting("items", to: .list(injected))
        }
        guard let workload = WorkloadKind(apiVersion: apiVersion, kind: kind) else { return object }
        let name = Self.describe(object, kind: workload.rawValue, place: place)
        let pod = workload.templatePath.reduce(Optional(object)) { node, key in node?[key] }
        guard let pod else {
            let path = workload.templatePath.joined(separator: ".")
            throw InjectionRefusal(object: name, problems: ["\(path): a \(workload.rawValue) needs a pod template"])
        }
        do {
            switch try PodTemplateInjector(template: template).inject(pod) {
            case .injected(let injected):
                reports.append(Report(object: name, unchangedBecause: nil))
                return Self.replacing(at: workload.templatePath[...], in: object, with: injected)
            case .unchanged(let reason):
                reports.append(Report(object: name, unchangedBecause: reason))
                return object
            }
        } catch {
            throw InjectionRefusal(object: name, problems: error.problems)
        }
    }

    private static func replacing(at path: ArraySlice<String>, in node: Node, with value: Node) -> Node {
        guard let key = path.first, let child = node[key] else { return value }
        return node.setting(key, to: replacing(at: path.dropFirst(), in: child, with: value))
    }

    /// `Deployment shop/web`; an unnamed object is named by its place in the input.
    /// - Parameter namespace: the namespace when the object does not say (an admission review's).
    static func describe(_ object: Node, kind: String, place: String, namespace: String? = nil) -> String {
        let metadata = object["metadata"]
        guard let name = metadata?["name"]?.string ?? metadata?["generateName"]?.string else {
            return "\(kind) (\(place))"
        }
        return (metadata?["namespace"]?.string ?? namespace).map { "\(kind) \($0)/\(name)" } ?? "\(kind) \(name)"
    }

    /// A document holding nothing (`---` at the end of a file), which kubectl skips too.
    private static func isEmpty(_ document: Node) -> Bool {
        document.null != nil || (document.scalar?.string.isEmpty ?? false)
    }
}
