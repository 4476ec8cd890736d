import Interception
import Policy

/// What a pod asks of `sidecar-inject` through its annotations, all under `swift-sidecar.io/`, read and checked at
/// once: an unknown name or a bad value refuses the pod, so a typo never passes silently.
struct PodAnnotations {
    /// `swift-sidecar.io/inject: "false"` keeps the sidecar out.
    var inject = true
    /// Capture settings for `sidecar-init`, as its environment, in the order the settings are declared.
    var captureEnvironment: [(String, String)] = []
    var configMap: String?
    var identity: SidecarTemplate.IdentityVolume?
    var proxyCPU: String?
    var proxyMemory: String?
    var proxyCPULimit: String?
    var proxyMemoryLimit: String?

    static let prefix = CaptureSetting.annotationPrefix
    static let injectName = prefix + "inject"
    static let configMapName = prefix + "config"
    static let identityName = prefix + "identity"
    static let proxyCPUName = prefix + "proxy-cpu"
    static let proxyMemoryName = prefix + "proxy-memory"
    static let proxyCPULimitName = prefix + "proxy-cpu-limit"
    static let proxyMemoryLimitName = prefix + "proxy-memory-limit"

    /// Capture settings a pod may not choose: the injected proxy's uid, gid and ports are fixed, and the table is
    /// the one `sidecar-status` looks for.
    static let fixedSettings: Set<CaptureSetting> = [.table, .proxyUid, .proxyGid, .outboundPort, .inboundPort]

    /// Reads the annotations; throws every problem found.
    init(_ annotations: [(String, String)]) throws(InjectionRefusal) {
        var problems: [String] = []
        var capture: [CaptureSetting: String] = [:]
        let settings = Dictionary(uniqueKeysWithValues: CaptureSetting.allCases.map { ($0.annotation, $0) })
        for (name, value) in annotations where name.hasPrefix(Self.prefix) {
            switch name {
            case Self.injectName:
                switch value {
                case "true": inject = true
                case "false": inject = false
                default: problems.append("\(name): '\(value)' is neither \"true\" nor \"false\"")
                }
            case Self.configMapName:
                if KubernetesName.isSubdomain(value) {
                    configMap = value
                } else {
                    problems.append("\(name): '\(value)' is not a ConfigMap name")
                }
            case Self.identityName:
                if let volume = SidecarTemplate.IdentityVolume(rawValue: value) {
                    identity = volume
                } else {
                    let known = SidecarTemplate.IdentityVolume.allCases.map(\.rawValue).joined(separator: ", ")
                    problems.append("\(name): '\(value)' is not an identity volume (one of: \(known))")
                }
            case Self.proxyCPUName, Self.proxyMemoryName, Self.proxyCPULimitName, Self.proxyMemoryLimitName:
                guard Self.isQuantity(value) else {
                    problems.append("\(name): '\(value)' is not a Kubernetes quantity (e.g. 100m, 1, 128Mi)")
                    continue
                }
                switch name {
                case Self.proxyCPUName: proxyCPU = value
                case Self.proxyMemoryName: proxyMemory = value
                case Self.proxyCPULimitName: proxyCPULimit = value
                default: proxyMemoryLimit = value
                }
            default:
                guard let setting = settings[name] else {
                    problems.append("\(name): unknown annotation (known: \(Self.knownNames.joined(separator: ", ")))")
                    continue
                }
                if Self.fixedSettings.contains(setting) {
                    problems.append(
                        "\(name): fixed by the injected sidecar (its uid and gid \(SidecarTemplate.proxyUID), its "
                            + "listeners, the table sidecar-status reads); it cannot be set per pod")
                } else {
                    capture[setting] = value
                }
            }
        }
        if case .failure(let invalid) = CaptureSettingsResolver(layers: [.init(source: .annotations, values: capture)])
            .resolve()
        {
            problems += invalid.messages
        }
        guard problems.isEmpty else { throw InjectionRefusal(problems: problems) }
        captureEnvironment = CaptureSetting.allCases.compactMap { setting in
            capture[setting].map { (setting.environmentVariable, $0) }
        }
    }

    static var knownNames: [String] {
        [
            injectName, configMapName, identityName, proxyCPUName, proxyMemoryName, proxyCPULimitName,
            proxyMemoryLimitName,
        ]
            + CaptureSetting.allCases.filter { !fixedSettings.contains($0) }.map(\.annotation)
    }

    /// The template with this pod's choices in it.
    func applied(to template: SidecarTemplate) -> SidecarTemplate {
        var template = template
        template.configMap = configMap ?? template.configMap
        template.identity = identity ?? template.identity
        template.proxyResources.cpuRequest = proxyCPU ?? template.proxyResources.cpuRequest
        template.proxyResources.memoryRequest = proxyMemory ?? template.proxyResources.memoryRequest
        template.proxyResources.cpuLimit = proxyCPULimit ?? template.proxyResources.cpuLimit
        template.proxyResources.memoryLimit = proxyMemoryLimit ?? template.proxyResources.memoryLimit
        return template
    }

    /// A Kubernetes resource quantity: a decimal number with an optional SI or binary suffix.
    static func isQuantity(_ text: String) -> Bool {
        let suffixes = ["", "m", "k", "M", "G", "T", "P", "E", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"]
        let numberEnd = text.firstIndex { !($0.isASCII && ($0.isNumber || $0 == ".")) } ?? text.endIndex
        let number = text[..<numberEnd]
        let parts = number.split(separator: ".", omittingEmptySubsequences: false)
        guard !number.isEmpty, parts.count <= 2, parts.allSatisfy({ !$0.isEmpty }) else { return false }
        return suffixes.contains(String(text[numberEnd...]))
    }
}
