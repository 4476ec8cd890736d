import NIOCore

extension SocketAddress {
    /// `10.1.2.3:8080` or `[fd00::5]:443`: how logs and reports write an endpoint.
    var endpoint: String {
        guard let ip = ipAddress, let port else { return "\(self)" }
        return self.protocol == .inet6 ? "[\(ip)]:\(port)" : "\(ip):\(port)"
    }
}
