import Foundation
import Policy
import Testing
import Yams

@testable import Injection

/// What `sidecar-inject -f` writes: the sidecar in every pod template, other objects intact, the same again when
/// run twice, and refusals that name the object and the problem.
struct ManifestInjectorTests {
    let injector = ManifestInjector(template: SidecarTemplate())

    static let deployment = """
        apiVersion: apps/v1
        kind: Deployment
        metadata:
          name: web
          namespace: shop
        spec:
          selector:
            matchLabels: {app: web}
          template:
            metadata:
              labels: {app: web}
              annotations:
                swift-sidecar.io/exclude-outbound-ports: "5432"
            spec:
              containers:
                - name: app
                  image: nginx
                  ports: [{name: http, containerPort: 8080}]
                  readinessProbe:
                    httpGet: {path: /ready, port: http, httpHeaders: [{name: X-Probe, value: "1"}]}
                    periodSeconds: 3
                  livenessProbe:
                    tcpSocket: {port: 8080}
                    timeoutSeconds: 2
                  startupProbe:
                    exec: {command: [cat, /tmp/started]}
        """

    /// Why the injector refused `yaml`; records an issue when it did not.
    private func refusal(of yaml: String) -> String {
        let error = #expect(throws: InjectionRefusal.self) { try injector.inject(yaml: yaml) }
        return error?.description ?? ""
    }

    private func injectedNode(_ yaml: String) throws -> Node {
        let output = try injector.inject(yaml: yaml).yaml
        return try #require(try Yams.compose(yaml: output))
    }

    @Test func aDeploymentGetsTheInitContainerThenTheNativeSidecar() throws {
        let spec = try #require(try injectedNode(Self.deployment)["spec"]?["template"]?["spec"])
        let initContainers = try #require(spec["initContainers"]?.sequence)
        #expect(initContainers.map { $0["name"]?.string } == ["sidecar-init", "sidecar-proxy"])
        let initContainer = initContainers[0]
        #expect(initContainer["command"]?.sequence?.map(\.string) == ["sidecar-init", "install"])
        #expect(initContainer["securityContext"]?["runAsUser"]?.int == 0)
        #expect(
            initContainer["securityContext"]?["capabilities"]?["add"]?.sequence?.map(\.string) == [
                "NET_ADMIN", "NET_RAW",
            ])
        #expect(initContainer["securityContext"]?["capabilities"]?["drop"]?.sequence?.map(\.string) == ["ALL"])
        let environment = initContainer["env"]?.sequence?.map { ($0["name"]?.string, $0["value"]?.string) }
        #expect(environment?.count == 1)
        #expect(environment?.first?.0 == "SIDECAR_EXCLUDE_OUTBOUND_PORTS")
        #expect(environment?.first?.1 == "5432")

        let proxy = initContainers[1]
        #expect(proxy["restartPolicy"]?.string == "Always")
        #expect(proxy["securityContext"]?["runAsUser"]?.int == 1337)
        #expect(proxy["securityContext"]?["runAsGroup"]?.int == 1337)
        #expect(proxy["readinessProbe"]?["httpGet"]?["port"]?.int == 15020)
        #expect(proxy["resources"]?["limits"]?["memory"]?.string == "512Mi")
        #expect(
            spec["volumes"]?.sequence?.compactMap { $0["name"]?.string } == ["sidecar-config", "sidecar-run"])
    }

    @Test func appProbesPointAtTheProxyAndTheOriginalsGoToItsEnvironment() throws {
        let spec = try #require(try injectedNode(Self.deployment)["spec"]?["template"]?["spec"])
        let app = try #require(spec["containers"]?[0])
        #expect(app["readinessProbe"]?["httpGet"]?["path"]?.string == "/app-health/app/readyz")
        #expect(app["readinessProbe"]?["httpGet"]?["port"]?.int == 15020)
        #expect(app["readinessProbe"]?["periodSeconds"]?.int == 3, "timings stay")
        #expect(app["livenessProbe"]?["tcpSocket"] == nil)
        #expect(app["livenessProbe"]?["httpGet"]?["path"]?.string == "/app-health/app/livez")
        #expect(app["livenessProbe"]?["timeoutSeconds"]?.int == 2)
        #expect(app["startupProbe"]?["exec"] != nil, "exec probes run in the container and stay")

        let proxy = try #require(spec["initContainers"]?[1])
        let variable = proxy["env"]?.sequence?.first { $0["name"]?.string == AppProbes.environmentVariable }
        let probes = try AppProbes.parse(try #require(variable?["value"]?.string))
        #expect(
            probes.containers["app"]?[.readyz]
                == AppProbe(
                    httpGet: .init(path: "/ready", port: 8080, httpHeaders: [.init(name: "X-Probe", value: "1")])))
        #expect(probes.containers["app"]?[.livez] == AppProbe(tcpSocket: .init(port: 8080), timeoutSeconds: 2))
        #expect(probes.containers["app"]?[.startupz] == nil)
    }

    @Test func injectingTwiceChangesNothing() throws {
        let once = try injector.inject(yaml: Self.deployment)
        let twice = try injector.inject(yaml: once.yaml)
        #expect(twice.yaml == once.yaml)
        #expect(twice.reports.map(\.unchangedBecause) == ["the sidecar is already there"])
    }

    @Test(arguments: [
        ("v1", "Pod", [String]()),
        ("apps/v1", "StatefulSet", ["spec", "template"]),
        ("apps/v1", "DaemonSet", ["spec", "template"]),
        ("apps/v1", "ReplicaSet", ["spec", "template"]),
        ("v1", "ReplicationController", ["spec", "template"]),
        ("batch/v1", "Job", ["spec", "template"]),
        ("batch/v1", "CronJob", ["spec", "jobTemplate", "spec", "template"]),
    ])
    func everyWorkloadKindHasItsPodTemplateInjected(apiVersion: String, kind: String, path: [String]) throws {
        let pod: Node = .map([
            "metadata": .map(["labels": .map(["app": .text("x")])]),
            "spec": .map(["containers": .list([.map(["name": .text("app"), "image": .text("busybox")])])]),
        ])
        var object = pod
        for key in path.reversed() { object = .map([key: object]) }
        object = Node(
            [(.text("apiVersion"), .text(apiVersion)), (.text("kind"), .text(kind))]
                + (object.mapping.map { Array($0) } ?? []), Tag(.map))
        let injected = try injectedNode(try Yams.serialize(node: object))
        let template = try #require(path.reduce(Optional(injected)) { $0?[$1] })
        #expect(template["spec"]?["initContainers"]?.sequence?.count == 2)
        #expect(template["metadata"]?["labels"]?["app"]?.string == "x")
    }

    @Test func otherKindsAndListsPassThroughWithTheirContent() throws {
        let yaml = """
            apiVersion: v1
            kind: List
            items:
              - apiVersion: v1
                kind: Service
                metadata: {name: web}
                spec: {ports: [{port: 80, targetPort: "8080"}]}
              - apiVersion: v1
                kind: Pod
                metadata: {name: one}
                spec: {containers: [{name: app, image: busybox}]}
            ---
            apiVersion: example.com/v1
            kind: Deployment
            metadata: {name: custom}
            spec: {anything: "yes", template: {spec: {containers: []}}}
            ---
            """
        let output = try injector.inject(yaml: yaml)
        let documents = try Array(Yams.compose_all(yaml: output.yaml))
        #expect(documents.count == 2)
        let items = try #require(documents[0]["items"]?.sequence)
        let original = try #require(try Yams.compose_all(yaml: yaml).first { _ in true })
        #expect(items[0] == original["items"]?[0], "the Service is untouched")
        #expect(items[0]["spec"]?["ports"]?[0]?["targetPort"]?.string == "8080")
        #expect(items[0]["spec"]?["ports"]?[0]?["targetPort"]?.int == nil, "a quoted number stays a string")
        #expect(items[1]["spec"]?["initContainers"]?.sequence?.count == 2)
        #expect(documents[1]["spec"]?["template"]?["spec"]?["initContainers"] == nil, "a custom kind is not ours")
        #expect(documents[1]["spec"]?["anything"]?.string == "yes")
        #expect(output.reports.map(\.object) == ["Pod one"])
    }

    @Test func optingOutLeavesThePodAsItWas() throws {
        let yaml = """
            apiVersion: v1
            kind: Pod
            metadata:
              name: skip
              annotations: {swift-sidecar.io/inject: "false"}
            spec: {containers: [{name: app, image: busybox}]}
            """
        let output = try injector.inject(yaml: yaml)
        #expect(try Yams.compose(yaml: output.yaml) == (try Yams.compose(yaml: yaml)))
        #expect(output.reports.first?.unchangedBecause?.contains("opted out") == true)
    }

    @Test(arguments: [
        ("hostNetwork: true", "spec.hostNetwork"),
        ("securityContext: {runAsUser: 1337}", "runAsUser: 1337 is the proxy's"),
        ("securityContext: {runAsGroup: 1337}", "runAsGroup: 1337 is the proxy's"),
    ])
    func podsTheSidecarCannotServeAreRefused(specLine: String, problem: String) throws {
        let yaml = """
            apiVersion: v1
            kind: Pod
            metadata: {name: host, namespace: kube-system}
            spec:
              \(specLine)
              containers: [{name: app, image: busybox}]
            """
        let reason = refusal(of: yaml)
        #expect(reason.contains("Pod kube-system/host"), "\(reason)")
        #expect(reason.contains(problem), "\(reason)")
    }

    @Test(arguments: [
        ("swift-sidecar.io/exclude-outbound-ports: \"http\"", "swift-sidecar.io/exclude-outbound-ports"),
        ("swift-sidecar.io/inject: \"no\"", "neither \"true\" nor \"false\""),
        ("swift-sidecar.io/exclude-outbond-ports: \"22\"", "unknown annotation"),
        ("swift-sidecar.io/proxy-uid: \"1000\"", "fixed by the injected sidecar"),
        ("swift-sidecar.io/proxy-memory: \"lots\"", "not a Kubernetes quantity"),
        ("swift-sidecar.io/identity: spire", "not an identity volume"),
    ])
    func badAnnotationsAreRefusedNamingTheAnnotation(annotation: String, problem: String) throws {
        let yaml = """
            apiVersion: v1
            kind: Pod
            metadata:
              name: typo
              annotations: {\(annotation)}
            spec: {containers: [{name: app, image: busybox}]}
            """
        let reason = refusal(of: yaml)
        #expect(reason.contains(problem), "\(reason)")
    }

    @Test func aProbeOnAPortNameTheContainerLacksIsRefused() throws {
        let yaml = """
            apiVersion: v1
            kind: Pod
            metadata: {name: probe}
            spec:
              containers:
                - name: app
                  image: busybox
                  livenessProbe: {httpGet: {path: /, port: web}}
            """
        #expect(refusal(of: yaml).contains("spec.containers[0].livenessProbe.httpGet.port: 'web' names no port"))
    }

    @Test func aProbeWithTwoHandlersIsRefused() throws {
        let yaml = """
            apiVersion: v1
            kind: Pod
            metadata: {name: probe}
            spec:
              containers:
                - {name: app, image: busybox, livenessProbe: {httpGet: {port: 80}, tcpSocket: {port: 80}}}
            """
        #expect(refusal(of: yaml).contains("a probe takes one handler, not httpGet and tcpSocket"))
    }

    @Test func stringsThatYAMLWouldMisreadAreQuoted() throws {
        for text in ["true", "y", "N", "1337", "", "0x10", "~", "null", "on"] {
            let written = try Yams.serialize(node: .map(["value": .text(text)]))
            #expect(try Yams.compose(yaml: written)?["value"]?.int == nil, "\(written)")
            #expect(written != "value: \(text)\n", "\(text) written plain")
        }
        #expect(try Yams.serialize(node: .map(["value": .text("sidecar-proxy")])) == "value: sidecar-proxy\n")
    }

    @Test func thePatchAddsReplacesAndRemovesWithEscapedPointers() {
        let before: Node = .map(["metadata": .map(["a/b": .text("1"), "gone": .text("x")]), "spec": .list([])])
        let after: Node = .map([
            "metadata": .map(["a/b": .text("2"), "c~d": .text("new")]), "spec": .list([.text("one")]),
        ])
        let operations = JSONPatch.operations(from: before, to: after).map { "\($0.op) \($0.path)" }
        #expect(operations == ["add /metadata/a~1b", "add /metadata/c~0d", "remove /metadata/gone", "add /spec"])
    }

    @Test func oneRefusedObjectRefusesTheWholeInput() throws {
        let yaml = """
            apiVersion: v1
            kind: Pod
            metadata: {name: fine}
            spec: {containers: [{name: app, image: busybox}]}
            ---
            apiVersion: v1
            kind: Pod
            metadata: {name: host}
            spec: {hostNetwork: true, containers: [{name: app, image: busybox}]}
            """
        #expect(refusal(of: yaml).contains("Pod host: spec.hostNetwork"))
    }

    @Test func annotationsChooseTheConfigMapIdentityAndResources() throws {
        let yaml = """
            apiVersion: v1
            kind: Pod
            metadata:
              name: tuned
              annotations:
                swift-sidecar.io/config: shop-sidecar
                swift-sidecar.io/identity: csi-spiffe
                swift-sidecar.io/proxy-memory-limit: 1Gi
            spec: {containers: [{name: app, image: busybox}]}
            """
        let spec = try #require(try injectedNode(yaml)["spec"])
        let volumes = try #require(spec["volumes"]?.sequence)
        #expect(volumes[0]["configMap"]?["name"]?.string == "shop-sidecar")
        #expect(volumes.last?["csi"]?["driver"]?.string == "spiffe.csi.cert-manager.io")
        let proxy = try #require(spec["initContainers"]?[1])
        #expect(proxy["resources"]?["limits"]?["memory"]?.string == "1Gi")
        #expect(
            proxy["volumeMounts"]?.sequence?.contains { $0["mountPath"]?.string == "/var/run/secrets/spiffe" }
                == true)
    }
}
