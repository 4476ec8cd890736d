/// Which side of the pod a connection came from.
public enum TrafficDirection: String, Sendable, Hashable {
    /// The app connected out; captured in the output hook.
    case outbound
    /// A peer connected in; captured in the prerouting hook.
    case inbound
}
