import NIOCore
import NIOPosix
import Policy

#if canImport(Glibc)
    import Glibc
#endif

/// Turns a service's configured endpoints into addresses: an address as it is, a DNS name through the system
/// resolver (so /etc/hosts and resolv.conf apply, as they do for the app). Lookups block, so they run on NIO's
/// thread pool, never on an event loop.
enum EndpointResolver {
    struct LookupFailed: Error, CustomStringConvertible {
        let name: String
        let reason: String
        var description: String { "cannot resolve \(name): \(reason)" }
    }

    /// Every address of every endpoint, in the order configured. A name that does not resolve fails the whole
    /// lookup, so a transient DNS failure keeps the previous addresses rather than shrinking the set.
    static func addresses(of endpoints: [ServiceEndpoint], on eventLoop: EventLoop) -> EventLoopFuture<[SocketAddress]>
    {
        guard endpoints.contains(where: { if case .name = $0 { true } else { false } }) else {
            return eventLoop.makeCompletedFuture { try endpoints.flatMap(lookUp) }
        }
        return NIOThreadPool.singleton.runIfActive(eventLoop: eventLoop) { try endpoints.flatMap(lookUp) }
    }

    private static func lookUp(_ endpoint: ServiceEndpoint) throws -> [SocketAddress] {
        switch endpoint {
        case .address(let address, let port):
            return [try SocketAddress(ipAddress: address.addressText, port: Int(port))]
        case .name(let name, let port):
            var hints = addrinfo()
            hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
            var results: UnsafeMutablePointer<addrinfo>?
            let status = getaddrinfo(name, String(port), &hints, &results)
            guard status == 0, let first = results else {
                throw LookupFailed(name: name, reason: String(cString: gai_strerror(status)))
            }
            defer { freeaddrinfo(first) }
            var addresses: [SocketAddress] = []
            var next: UnsafeMutablePointer<addrinfo>? = first
            while let info = next {
                if let address = info.pointee.ai_addr {
                    switch Int32(info.pointee.ai_family) {
                    case AF_INET:
                        addresses.append(
                            address.withMemoryRebound(to: sockaddr_in.self, capacity: 1) {
                                SocketAddress($0.pointee, host: name)
                            })
                    case AF_INET6:
                        addresses.append(
                            address.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) {
                                SocketAddress($0.pointee, host: name)
                            })
                    default:
                        break
                    }
                }
                next = info.pointee.ai_next
            }
            return addresses
        }
    }
}
