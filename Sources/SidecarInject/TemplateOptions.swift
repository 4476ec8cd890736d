import ArgumentParser
import Injection

/// What the injected sidecar is made of, for the whole cluster; pods vary it with `swift-sidecar.io/` annotations.
struct TemplateOptions: ParsableArguments {
    @Option(help: "The swift-sidecar image both containers run.")
    var image = SidecarTemplate().image

    @Option(help: "imagePullPolicy of both containers (Always, IfNotPresent or Never; default: the cluster's).")
    var imagePullPolicy: String?

    @Option(help: "The ConfigMap with sidecar.yaml, in each pod's namespace.")
    var configMap = SidecarTemplate().configMap

    @Option(help: "Identity volume: none, or csi-spiffe (cert-manager's csi-driver-spiffe, for mutual TLS).")
    var identity = SidecarTemplate.IdentityVolume.none

    func validate() throws {
        if let imagePullPolicy, !["Always", "IfNotPresent", "Never"].contains(imagePullPolicy) {
            throw ValidationError("--image-pull-policy '\(imagePullPolicy)' is not Always, IfNotPresent or Never")
        }
        if image.isEmpty { throw ValidationError("--image must name an image") }
    }

    var template: SidecarTemplate {
        SidecarTemplate(image: image, imagePullPolicy: imagePullPolicy, configMap: configMap, identity: identity)
    }
}

extension SidecarTemplate.IdentityVolume: ExpressibleByArgument {}
