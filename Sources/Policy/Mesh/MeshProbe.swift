/// A kubelet probe that may arrive as plaintext on a strict port: `GET` or `HEAD` of exactly this path (query
/// aside) on this port.
public struct MeshProbe: Sendable, Hashable {
    public var port: UInt16
    /// Normalized, as requests are matched.
    public var path: String

    public init(port: UInt16, path: String) {
        self.port = port
        self.path = path
    }

    /// Whether a request is this probe: the kubelet sends `GET`; `HEAD` is what other checkers send.
    func admits(method: String, path: String, port: UInt16) -> Bool {
        port == self.port && path == self.path && (method == "GET" || method == "HEAD")
    }
}
