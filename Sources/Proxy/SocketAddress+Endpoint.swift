import NIOCore

extension SocketAddress {
    /// The address in network byte order (4 or 16 bytes), or nil for a non-IP address.
    var addressBytes: [UInt8]? {
        switch self {
        case .v4(let v4): withUnsafeBytes(of: v4.address.sin_addr) { Array($0) }
        case .v6(let v6): withUnsafeBytes(of: v6.address.sin6_addr) { Array($0) }
        default: nil
        }
    }

    /// `10.1.2.3:8080` or `[fd00::5]:443`: how logs and reports write an endpoint.
    var endpoint: String {
        guard let ip = ipAddress, let port else { return "\(self)" }
        return self.protocol == .inet6 ? "[\(ip)]:\(port)" : "\(ip):\(port)"
    }
}
