/// An HTTP health check: `GET path`, healthy when the status is one of `expectedStatuses`.
public struct HTTPHealthCheck: Sendable, Hashable {
    public var path: String
    /// HTTPS, unverified (the kubelet does not verify it either).
    public var tls: Bool
    /// The `Host` header; nil sends `HOST:PORT` of the address dialled.
    public var host: String?
    public var headers: [AppProbe.HTTPHeader]
    public var expectedStatuses: [ClosedRange<Int>]

    public init(
        path: String, tls: Bool = false, host: String? = nil, headers: [AppProbe.HTTPHeader] = [],
        expectedStatuses: [ClosedRange<Int>]
    ) {
        self.path = path
        self.tls = tls
        self.host = host
        self.headers = headers
        self.expectedStatuses = expectedStatuses
    }

    public func expects(_ status: Int) -> Bool {
        expectedStatuses.contains { $0.contains(status) }
    }

    /// Why `path` cannot be a request target: it must be absolute, with nothing a request line would break on.
    public static func problem(path: String) -> String? {
        guard path.hasPrefix("/") else { return "'\(path)' does not start with /" }
        guard !path.unicodeScalars.contains(where: { $0.value <= 0x20 || $0.value == 0x7F }) else {
            return "'\(path)' holds a space or a control character"
        }
        return nil
    }
}
