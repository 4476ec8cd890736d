import Foundation
import Testing

/// `sidecar-inject` against checkers no one here wrote: what `-f` writes for every workload kind passes
/// `kubernetes-validate --strict`, and the webhook, driven over TLS with real `AdmissionReview` documents, answers
/// with a patch that Python's `jsonpatch` applies to a pod that then validates.
@Suite struct SidecarInjectTests {
    static let workloads = """
        apiVersion: v1
        kind: Pod
        metadata: {name: solo, namespace: shop}
        spec:
          containers:
            - name: app
              image: example/app
              ports: [{name: http, containerPort: 8080}]
              readinessProbe: {httpGet: {path: /ready, port: http}}
              livenessProbe: {tcpSocket: {port: 8080}}
              startupProbe: {grpc: {port: 9090}}
        ---
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: web, namespace: shop}
        spec:
          selector: {matchLabels: {app: web}}
          template:
            metadata:
              labels: {app: web}
              annotations: {swift-sidecar.io/exclude-outbound-ports: "5432", swift-sidecar.io/identity: csi-spiffe}
            spec: {containers: [{name: app, image: example/app}]}
        ---
        apiVersion: apps/v1
        kind: StatefulSet
        metadata: {name: db}
        spec:
          serviceName: db
          selector: {matchLabels: {app: db}}
          template:
            metadata: {labels: {app: db}}
            spec: {containers: [{name: db, image: example/db}]}
        ---
        apiVersion: apps/v1
        kind: DaemonSet
        metadata: {name: agent}
        spec:
          selector: {matchLabels: {app: agent}}
          template:
            metadata: {labels: {app: agent}}
            spec: {containers: [{name: agent, image: example/agent}]}
        ---
        apiVersion: v1
        kind: List
        items:
          - apiVersion: apps/v1
            kind: ReplicaSet
            metadata: {name: rs}
            spec:
              selector: {matchLabels: {app: rs}}
              template:
                metadata: {labels: {app: rs}}
                spec: {containers: [{name: app, image: example/app}]}
          - apiVersion: v1
            kind: ReplicationController
            metadata: {name: rc}
            spec:
              selector: {app: rc}
              template:
                metadata: {labels: {app: rc}}
                spec: {containers: [{name: app, image: example/app}]}
        ---
        apiVersion: batch/v1
        kind: Job
        metadata: {name: once}
        spec:
          template:
            spec: {restartPolicy: Never, containers: [{name: task, image: example/task}]}
        ---
        apiVersion: batch/v1
        kind: CronJob
        metadata: {name: nightly}
        spec:
          schedule: "0 3 * * *"
          jobTemplate:
            spec:
              template:
                spec: {restartPolicy: OnFailure, containers: [{name: task, image: example/task}]}
        ---
        apiVersion: v1
        kind: ConfigMap
        metadata: {name: settings}
        data: {enabled: "true", port: "8080"}
        """

    /// `kubernetes-validate --strict` of YAML, a `List`'s items each (the validator has no schema for `List`):
    /// unknown fields and wrong types fail it.
    static func validate(_ yaml: String, named name: String) throws -> CommandResult {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("sidecar-\(name)-\(UUID()).yaml").path
        let flatten = """
            import sys, yaml
            objects = []
            for document in yaml.safe_load_all(sys.stdin):
                objects += document["items"] if document.get("kind") == "List" else [document]
            open(sys.argv[1], "w").write(yaml.safe_dump_all(objects))
            """
        try Shell.run(["python3", "-c", flatten, path], stdin: yaml)
        defer { try? FileManager.default.removeItem(atPath: path) }
        return try Shell.run(["python3", "-m", "kubernetes_validate", "--strict", path], expectSuccess: false)
    }

    @Test func everyWorkloadKindInjectedValidatesAndInjectingAgainChangesNothing() throws {
        let injected = try Shell.run([Binaries.sidecarInject, "-f", "-"], stdin: Self.workloads)
        for kind in [
            "Pod shop/solo", "Deployment shop/web", "StatefulSet db", "DaemonSet agent", "ReplicaSet rs",
            "ReplicationController rc", "Job once", "CronJob nightly",
        ] {
            #expect(injected.stderr.contains("\(kind): injected"), "\(injected.stderr)")
        }
        let validation = try Self.validate(injected.stdout, named: "injected")
        #expect(validation.status == 0, "\(validation)")
        #expect(!validation.stdout.contains("failed") && !validation.stderr.contains("ERROR"), "\(validation)")
        // Nine objects in, nine out, the ConfigMap among them with its strings still strings.
        #expect(validation.stdout.components(separatedBy: "passed").count - 1 == 9, "\(validation)")
        #expect(injected.stdout.contains("enabled: \"true\""), "\(injected.stdout)")
        #expect(injected.stdout.components(separatedBy: "name: sidecar-proxy").count - 1 == 8)

        let again = try Shell.run([Binaries.sidecarInject, "-f", "-"], stdin: injected.stdout)
        #expect(again.stdout == injected.stdout)
        #expect(again.stderr.components(separatedBy: "unchanged, the sidecar is already there").count - 1 == 8)
    }

    @Test func aRefusedObjectWritesNothingAndExitsTwo() throws {
        let hostPod = """
            apiVersion: v1
            kind: Pod
            metadata: {name: node-agent, namespace: kube-system}
            spec: {hostNetwork: true, containers: [{name: agent, image: example/agent}]}
            """
        let result = try Shell.run([Binaries.sidecarInject, "-f", "-"], expectSuccess: false, stdin: hostPod)
        #expect(result.status == 2)
        #expect(result.stdout.isEmpty)
        #expect(result.stderr.contains("Pod kube-system/node-agent: spec.hostNetwork"), "\(result.stderr)")
    }

    /// The webhook in the pod namespace, reached from the peer as the API server would reach its Service.
    @Test func theWebhookAnswersRealAdmissionReviewsOverTLS() async throws {
        try await PodTopology.with { topology in
            let certificate = "\(Binaries.directory)/\(topology.pod)-webhook.crt"
            let key = "\(Binaries.directory)/\(topology.pod)-webhook.key"
            defer { for file in [certificate, key] { try? FileManager.default.removeItem(atPath: file) } }
            try Shell.run([
                "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days",
                "1",
                "-subj", "/CN=sidecar-inject.sidecar-system.svc", "-keyout", key, "-out", certificate, "-addext",
                "subjectAltName=DNS:sidecar-inject.sidecar-system.svc,IP:\(topology.podIPv4)",
            ])
            let webhook = try topology.start(
                name: "webhook",
                [
                    "ip", "netns", "exec", topology.pod, Binaries.sidecarInject, "serve", "--tls-cert", certificate,
                    "--tls-key", key, "--port", "9443", "--certificate-check-interval", "1",
                ])
            try webhook.waitForOutput("serving the admission webhook")

            /// Sends `review` as the API server does and applies the answer's patch with jsonpatch; prints the
            /// response, then the patched object as YAML.
            func admit(_ review: String) throws -> (response: [String: Any], patched: String) {
                let script = """
                    import base64, json, subprocess, sys, yaml, jsonpatch
                    review = json.loads(sys.stdin.read())
                    answer = subprocess.run(["curl", "-s", "--fail-with-body", "--cacert", sys.argv[1], "-H",
                        "Content-Type: application/json", "--data-binary", "@-", sys.argv[2]],
                        input=json.dumps(review, separators=(",", ":")).encode(), capture_output=True, check=True)
                    response = json.loads(answer.stdout)
                    print(json.dumps(response))
                    patch = response["response"].get("patch")
                    obj = review["request"].get("object") or {}
                    if patch:
                        obj = jsonpatch.apply_patch(obj, json.loads(base64.b64decode(patch)))
                        # The API server names a pod made from generateName after admission.
                        obj["metadata"].setdefault("name", obj["metadata"].get("generateName", "") + "x7k2p")
                    print(yaml.safe_dump(obj))
                    """
                let result = try Shell.run(
                    topology.inPeer([
                        "python3", "-c", script, certificate, "https://\(topology.podIPv4):9443/inject",
                    ]), stdin: review)
                let lines = result.stdout.split(separator: "\n", maxSplits: 1)
                let response = try JSONSerialization.jsonObject(with: Data(lines[0].utf8)) as? [String: Any] ?? [:]
                return (response, lines.count > 1 ? String(lines[1]) : "")
            }

            func review(uid: String, kind: String = "Pod", object: String) -> String {
                """
                {"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": {"uid": "\(uid)",
                 "kind": {"group": "", "version": "v1", "kind": "\(kind)"},
                 "resource": {"group": "", "version": "v1", "resource": "\(kind.lowercased())s"},
                 "namespace": "shop", "operation": "CREATE", "userInfo": {"username": "system:serviceaccount:kube-system:replicaset-controller"},
                 "object": \(object), "dryRun": false}}
                """
            }
            let pod = """
                {"apiVersion": "v1", "kind": "Pod", "metadata": {"generateName": "web-7d9f-", "namespace": "shop",
                 "labels": {"app": "web"}}, "spec": {"containers": [{"name": "app", "image": "example/app",
                 "ports": [{"name": "http", "containerPort": 8080}],
                 "readinessProbe": {"httpGet": {"path": "/ready", "port": "http"}, "periodSeconds": 5}}]}}
                """

            let injected = try admit(review(uid: "705ab4f5-6393-11e8-b7cc-42010a800002", object: pod))
            let answer = try #require(injected.response["response"] as? [String: Any])
            #expect(answer["uid"] as? String == "705ab4f5-6393-11e8-b7cc-42010a800002")
            #expect(answer["allowed"] as? Bool == true)
            #expect(answer["patchType"] as? String == "JSONPatch")
            #expect(injected.patched.contains("name: sidecar-proxy"), "\(injected.patched)")
            #expect(injected.patched.contains("path: /app-health/app/readyz"), "\(injected.patched)")
            #expect(injected.patched.contains("periodSeconds: 5"), "\(injected.patched)")
            let validation = try Self.validate(injected.patched, named: "admitted")
            #expect(validation.status == 0, "\(validation)")

            // The same pod once injected: allowed, nothing to patch.
            let patchedJSON = try Shell.run(
                ["python3", "-c", "import json, sys, yaml; print(json.dumps(yaml.safe_load(sys.stdin)))"],
                stdin: injected.patched
            ).stdout
            let again = try #require(
                try admit(review(uid: "2", object: patchedJSON)).response["response"] as? [String: Any])
            #expect(again["allowed"] as? Bool == true)
            #expect(again["patch"] == nil)

            // Not a pod: allowed untouched.
            let service =
                #"{"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"}, "spec": {"ports": [{"port": 80}]}}"#
            let other = try #require(
                try admit(review(uid: "3", kind: "Service", object: service)).response["response"] as? [String: Any])
            #expect(other["allowed"] as? Bool == true)
            #expect(other["patch"] == nil)

            // A pod the sidecar cannot serve: denied, with the reason for `kubectl` to show.
            let hostPod =
                #"{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "agent"}, "spec": {"hostNetwork": true, "containers": [{"name": "a", "image": "x"}]}}"#
            let denied = try #require(
                try admit(review(uid: "4", object: hostPod)).response["response"] as? [String: Any])
            #expect(denied["allowed"] as? Bool == false)
            let message = (denied["status"] as? [String: Any])?["message"] as? String ?? ""
            #expect(message.contains("Pod shop/agent: spec.hostNetwork"), "\(message)")

            // A review it cannot read: an answer with allowed and a message, and the webhook keeps serving.
            let garbage = try Shell.run(
                topology.inPeer([
                    "curl", "-s", "--cacert", certificate, "--data-binary",
                    #"{"kind": "AdmissionReview", "request": 7}"#,
                    "https://\(topology.podIPv4):9443/inject",
                ]))
            #expect(garbage.stdout.contains(#""allowed":false"#), "\(garbage.stdout)")
            #expect(garbage.stdout.contains("request.uid"), "\(garbage.stdout)")
            #expect(webhook.isRunning)
            let health = try Shell.run(
                topology.inPeer(["curl", "-s", "--cacert", certificate, "https://\(topology.podIPv4):9443/healthz"]))
            #expect(health.stdout == "live\n")

            // cert-manager renews the certificate in place: new connections get the new one, without a restart.
            func fingerprint(_ pem: String) throws -> String {
                try Shell.run(["openssl", "x509", "-noout", "-fingerprint", "-sha256"], stdin: pem).stdout
            }
            let served = {
                try fingerprint(
                    Shell.run(
                        topology.inPeer([
                            "openssl", "s_client", "-connect", "\(topology.podIPv4):9443", "-servername",
                            "sidecar-inject.sidecar-system.svc",
                        ]), expectSuccess: false, stdin: ""
                    ).stdout)
            }
            let before = try served()
            #expect(try before == fingerprint(String(contentsOfFile: certificate, encoding: .utf8)))
            try Shell.run([
                "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days",
                "2", "-subj", "/CN=sidecar-inject.sidecar-system.svc", "-keyout", key, "-out", certificate, "-addext",
                "subjectAltName=DNS:sidecar-inject.sidecar-system.svc,IP:\(topology.podIPv4)",
            ])
            let renewed = try fingerprint(String(contentsOfFile: certificate, encoding: .utf8))
            #expect(renewed != before)
            try waitUntil(within: .seconds(10), "the renewed certificate served") { try served() == renewed }
            #expect(webhook.output.contains("webhook certificate renewed"), "\(webhook.output)")
        }
    }
}
