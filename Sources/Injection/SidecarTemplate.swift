import Policy
import Yams

/// What `sidecar-inject` adds to a pod, and what it may vary per cluster (flags) or per pod (annotations): the
/// generated form of `init/pod.yaml`.
public struct SidecarTemplate: Sendable {
    /// Which identity volume the proxy gets.
    public enum IdentityVolume: String, Sendable, CaseIterable {
        /// None: mutual TLS stays off unless the operator mounts one.
        case none
        /// cert-manager's csi-driver-spiffe: `tls.crt`, `tls.key`, `ca.crt` for the pod's service account.
        case csiSPIFFE = "csi-spiffe"
    }

    /// Requests and limits of one container, as Kubernetes quantities.
    public struct Resources: Sendable, Equatable {
        public var cpuRequest: String
        public var memoryRequest: String
        public var cpuLimit: String
        public var memoryLimit: String

        public init(cpuRequest: String, memoryRequest: String, cpuLimit: String, memoryLimit: String) {
            self.cpuRequest = cpuRequest
            self.memoryRequest = memoryRequest
            self.cpuLimit = cpuLimit
            self.memoryLimit = memoryLimit
        }
    }

    public static let initContainerName = "sidecar-init"
    public static let proxyContainerName = "sidecar-proxy"
    public static let configVolumeName = "sidecar-config"
    public static let runVolumeName = "sidecar-run"
    public static let identityVolumeName = "sidecar-identity"
    public static let identityMountPath = "/var/run/secrets/spiffe"
    /// The proxy's uid and gid: the capture rules let its own traffic through.
    public static let proxyUID = 1337
    /// Ports the proxy owns in the pod's network namespace; an app container must not claim them.
    public static let proxyPorts: Set<Int> = [15000, 15001, 15006, 15020, 15053]
    public static let telemetryPort = 15020

    public var image: String
    public var imagePullPolicy: String?
    /// The ConfigMap holding `sidecar.yaml`, in the pod's namespace.
    public var configMap: String
    public var identity: IdentityVolume
    public var proxyResources: Resources
    public var initResources: Resources

    public init(
        image: String = "ghcr.io/example/swift-sidecar:latest", imagePullPolicy: String? = nil,
        configMap: String = "sidecar-config", identity: IdentityVolume = .none,
        proxyResources: Resources = Resources(
            cpuRequest: "100m", memoryRequest: "64Mi", cpuLimit: "2", memoryLimit: "512Mi"),
        initResources: Resources = Resources(
            cpuRequest: "10m", memoryRequest: "16Mi", cpuLimit: "100m", memoryLimit: "64Mi")
    ) {
        self.image = image
        self.imagePullPolicy = imagePullPolicy
        self.configMap = configMap
        self.identity = identity
        self.proxyResources = proxyResources
        self.initResources = initResources
    }

    /// `sidecar-init install`: root with NET_ADMIN and NET_RAW to program the pod's nftables, nothing else.
    func initContainer(environment: [(String, String)]) -> Node {
        var fields: [(String, Node)] = [
            ("name", .text(Self.initContainerName)),
            ("image", .text(image)),
        ]
        if let imagePullPolicy { fields.append(("imagePullPolicy", .text(imagePullPolicy))) }
        fields.append(("command", .list([.text("sidecar-init"), .text("install")])))
        if !environment.isEmpty {
            fields.append(("env", .list(environment.map { .map(["name": .text($0.0), "value": .text($0.1)]) })))
        }
        fields += [
            ("resources", Self.resources(initResources)),
            (
                "securityContext",
                .map([
                    "runAsUser": .number(0),
                    "runAsNonRoot": .flag(false),
                    "allowPrivilegeEscalation": .flag(false),
                    "capabilities": .map([
                        "add": .list([.text("NET_ADMIN"), .text("NET_RAW")]), "drop": .list([.text("ALL")]),
                    ]),
                ])
            ),
        ]
        return Self.mapping(fields)
    }

    /// The proxy as a native sidecar: started after `sidecar-init`, ready before the app starts, stopped after it.
    func proxyContainer(appProbes: AppProbes) -> Node {
        var fields: [(String, Node)] = [
            ("name", .text(Self.proxyContainerName)),
            ("image", .text(image)),
        ]
        if let imagePullPolicy { fields.append(("imagePullPolicy", .text(imagePullPolicy))) }
        var environment: [Node] = [
            .map([
                "name": .text("SIDECAR_POD_IP"),
                "valueFrom": .map(["fieldRef": .map(["fieldPath": .text("status.podIP")])]),
            ])
        ]
        if !appProbes.containers.isEmpty {
            environment.append(
                .map(["name": .text(AppProbes.environmentVariable), "value": .text(appProbes.json())]))
        }
        var mounts: [Node] = [
            .map([
                "name": .text(Self.configVolumeName), "mountPath": .text("/etc/sidecar"), "readOnly": .flag(true),
            ]),
            .map(["name": .text(Self.runVolumeName), "mountPath": .text("/var/run/sidecar")]),
        ]
        if identity == .csiSPIFFE {
            mounts.append(
                .map([
                    "name": .text(Self.identityVolumeName), "mountPath": .text(Self.identityMountPath),
                    "readOnly": .flag(true),
                ]))
        }
        func probe(_ path: String, period: Int, failures: Int? = nil) -> Node {
            var fields: [(String, Node)] = [
                ("httpGet", .map(["path": .text(path), "port": .number(Self.telemetryPort)])),
                ("periodSeconds", .number(period)),
            ]
            if let failures { fields.append(("failureThreshold", .number(failures))) }
            return Self.mapping(fields)
        }
        fields += [
            ("restartPolicy", .text("Always")),
            ("command", .list(["sidecar-proxy", "run", "--config", "/etc/sidecar/sidecar.yaml"].map(Node.text))),
            ("env", .list(environment)),
            (
                "lifecycle",
                .map([
                    "postStart": .map([
                        "exec": .map([
                            "command": .list(["sidecar-proxy", "wait-ready", "--timeout", "60s"].map(Node.text))
                        ])
                    ])
                ])
            ),
            (
                "ports",
                .list([
                    .map(["name": .text("sidecar-inbound"), "containerPort": .number(15006)]),
                    .map(["name": .text("sidecar-metrics"), "containerPort": .number(Self.telemetryPort)]),
                ])
            ),
            ("startupProbe", probe("/healthz/ready", period: 1, failures: 60)),
            ("readinessProbe", probe("/healthz/ready", period: 5)),
            ("livenessProbe", probe("/healthz/live", period: 10)),
            ("resources", Self.resources(proxyResources)),
            (
                "securityContext",
                .map([
                    "runAsUser": .number(Self.proxyUID),
                    "runAsGroup": .number(Self.proxyUID),
                    "runAsNonRoot": .flag(true),
                    "allowPrivilegeEscalation": .flag(false),
                    "readOnlyRootFilesystem": .flag(true),
                    "capabilities": .map(["drop": .list([.text("ALL")])]),
                ])
            ),
            ("volumeMounts", .list(mounts)),
        ]
        return Self.mapping(fields)
    }

    /// The volumes the two containers mount, named so they cannot be mistaken for the app's.
    func volumes() -> [Node] {
        var volumes: [Node] = [
            .map(["name": .text(Self.configVolumeName), "configMap": .map(["name": .text(configMap)])]),
            .map([
                "name": .text(Self.runVolumeName),
                "emptyDir": .map(["medium": .text("Memory"), "sizeLimit": .text("1Mi")]),
            ]),
        ]
        if identity == .csiSPIFFE {
            volumes.append(
                .map([
                    "name": .text(Self.identityVolumeName),
                    "csi": .map(["driver": .text("spiffe.csi.cert-manager.io"), "readOnly": .flag(true)]),
                ]))
        }
        return volumes
    }

    private static func resources(_ resources: Resources) -> Node {
        .map([
            "requests": .map(["cpu": .text(resources.cpuRequest), "memory": .text(resources.memoryRequest)]),
            "limits": .map(["cpu": .text(resources.cpuLimit), "memory": .text(resources.memoryLimit)]),
        ])
    }

    private static func mapping(_ fields: [(String, Node)]) -> Node {
        Node(fields.map { (Node.text($0.0), $0.1) }, Tag(.map))
    }
}
