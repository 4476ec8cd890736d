/// Which of a container's kubelet probes an app probe stands for, named as its path on the telemetry port ends:
/// `/app-health/CONTAINER/livez`.
public enum AppProbeKind: String, CaseIterable, Sendable, Hashable, Codable, CodingKeyRepresentable {
    case livez
    case readyz
    case startupz

    /// The field of a Kubernetes container that holds this probe.
    public var containerField: String {
        switch self {
        case .livez: "livenessProbe"
        case .readyz: "readinessProbe"
        case .startupz: "startupProbe"
        }
    }
}
