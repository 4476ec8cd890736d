/// The kinds whose objects hold a pod template, by API group, and where the template is. A kind of the same name
/// in another group (a custom resource) is not ours to change.
enum WorkloadKind: String, CaseIterable {
    case pod = "Pod"
    case deployment = "Deployment"
    case statefulSet = "StatefulSet"
    case daemonSet = "DaemonSet"
    case replicaSet = "ReplicaSet"
    case replicationController = "ReplicationController"
    case job = "Job"
    case cronJob = "CronJob"

    init?(apiVersion: String?, kind: String?) {
        guard let kind, let workload = WorkloadKind(rawValue: kind), let apiVersion else { return nil }
        let group = apiVersion.split(separator: "/").dropLast().first.map(String.init) ?? ""
        guard group == workload.group else { return nil }
        self = workload
    }

    var group: String {
        switch self {
        case .pod, .replicationController: ""
        case .deployment, .statefulSet, .daemonSet, .replicaSet: "apps"
        case .job, .cronJob: "batch"
        }
    }

    /// The keys from the object to its pod template; empty for a Pod, which is its own template.
    var templatePath: [String] {
        switch self {
        case .pod: []
        case .deployment, .statefulSet, .daemonSet, .replicaSet, .replicationController, .job: ["spec", "template"]
        case .cronJob: ["spec", "jobTemplate", "spec", "template"]
        }
    }
}
