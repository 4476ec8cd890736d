import Policy
import Yams

/// Adds the sidecar to one pod template (a Pod, or a workload's `template`): `sidecar-init` and the proxy first
/// among the init containers, the app's probes pointed at the proxy, the sidecar's volumes last. A template that
/// already holds the sidecar, or opts out, comes back unchanged.
struct PodTemplateInjector {
    enum Outcome {
        case injected(Node)
        case unchanged(reason: String)
    }

    let template: SidecarTemplate

    func inject(_ pod: Node) throws(InjectionRefusal) -> Outcome {
        let annotations = (pod["metadata"]?["annotations"]?.mapping ?? [:]).map { key, value in
            (key.string ?? "", value.scalarText ?? "")
        }
        let options = try PodAnnotations(annotations)
        guard options.inject else { return .unchanged(reason: "opted out by \(PodAnnotations.injectName)") }
        guard let spec = pod["spec"], spec.mapping != nil else {
            throw InjectionRefusal(problems: ["spec: a pod template needs a spec"])
        }
        let initContainers = spec["initContainers"]?.sequence.map(Array.init) ?? []
        let containers = spec["containers"]?.sequence.map(Array.init) ?? []
        let volumes = spec["volumes"]?.sequence.map(Array.init) ?? []
        let initNames = initContainers.compactMap { $0["name"]?.string }
        if initNames.contains(SidecarTemplate.initContainerName), initNames.contains(SidecarTemplate.proxyContainerName)
        {
            return .unchanged(reason: "the sidecar is already there")
        }

        var problems = Self.conflicts(spec: spec, containers: containers + initContainers, volumes: volumes)
        var rewriter = AppProbeRewriter()
        let rewritten = containers.enumerated().map { index, container in
            rewriter.rewrite(container: container, at: "spec.containers[\(index)]")
        }
        problems += rewriter.problems + rewriter.probes.problems()
        guard problems.isEmpty else { throw InjectionRefusal(problems: problems) }

        let sidecar = options.applied(to: template)
        let injectedSpec =
            spec
            .setting(
                "initContainers",
                to: .list(
                    [
                        sidecar.initContainer(environment: options.captureEnvironment),
                        sidecar.proxyContainer(appProbes: rewriter.probes),
                    ] + initContainers)
            )
            .setting("containers", to: .list(rewritten))
            .setting("volumes", to: .list(volumes + sidecar.volumes()))
        return .injected(pod.setting("spec", to: injectedSpec))
    }

    /// What would break the pod or bypass the proxy: host networking (no pod namespace to capture), a container
    /// running as the proxy's uid (its traffic is never captured), a port or a name the sidecar needs.
    private static func conflicts(spec: Node, containers: [Node], volumes: [Node]) -> [String] {
        var problems: [String] = []
        if spec["hostNetwork"]?.bool == true {
            problems.append(
                "spec.hostNetwork: a pod on the node's network has no namespace of its own to capture; opt it out "
                    + "with \(PodAnnotations.injectName): \"false\"")
        }
        for field in ["runAsUser", "runAsGroup"] where spec["securityContext"]?[field]?.int == SidecarTemplate.proxyUID
        {
            problems.append(
                "spec.securityContext.\(field): \(SidecarTemplate.proxyUID) is the proxy's; the app's traffic would "
                    + "bypass it")
        }
        let sidecarNames = [SidecarTemplate.initContainerName, SidecarTemplate.proxyContainerName]
        for container in containers {
            let name = container["name"]?.string ?? "?"
            if sidecarNames.contains(name) {
                problems.append("container '\(name)': the name is the sidecar's, but the sidecar is not complete")
            }
            for field in ["runAsUser", "runAsGroup"]
            where container["securityContext"]?[field]?.int == SidecarTemplate.proxyUID {
                problems.append(
                    "container '\(name)': \(field) \(SidecarTemplate.proxyUID) is the proxy's; its traffic would "
                        + "bypass the proxy")
            }
            for port in container["ports"]?.sequence ?? [] {
                if let number = port["containerPort"]?.int, SidecarTemplate.proxyPorts.contains(number) {
                    problems.append("container '\(name)': port \(number) is the sidecar's")
                }
            }
        }
        let sidecarVolumes = [
            SidecarTemplate.configVolumeName, SidecarTemplate.runVolumeName, SidecarTemplate.identityVolumeName,
        ]
        for volume in volumes {
            if let name = volume["name"]?.string, sidecarVolumes.contains(name) {
                problems.append("volume '\(name)': the name is the sidecar's")
            }
        }
        return problems
    }
}
