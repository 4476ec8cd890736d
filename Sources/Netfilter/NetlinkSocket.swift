import CNetfilter

#if canImport(Glibc)
    import Glibc
#endif

/// A netlink socket to the kernel's netfilter subsystem, closed when released.
final class NetlinkSocket {
    private let socket: OpaquePointer
    private let portID: UInt32
    private var nextSequence: UInt32

    /// Room for one datagram of a dump: 32 KiB, the most the kernel puts in one.
    private static let receiveBufferSize = 32_768

    /// How long to wait for the kernel's answer before giving up instead of hanging an init container.
    private static let answerTimeoutSeconds = 5

    init() throws(NetfilterError) {
        guard let socket = mnl_socket_open(NETLINK_NETFILTER) else {
            throw NetfilterError(operation: "open netfilter netlink socket", errno: errno)
        }
        do {
            try Self.configure(socket)
        } catch {
            mnl_socket_close(socket)
            throw error
        }
        self.socket = socket
        self.portID = mnl_socket_get_portid(socket)
        // Distinct from any earlier run's numbers, as `nft` does, so stale answers cannot be mistaken for ours.
        self.nextSequence = UInt32(truncatingIfNeeded: time(nil))
    }

    private static func configure(_ socket: OpaquePointer) throws(NetfilterError) {
        _ = try NetfilterError.check("bind netfilter netlink socket") {
            mnl_socket_bind(socket, 0, pid_t(MNL_SOCKET_AUTOPID))
        }
        var timeout = timeval(tv_sec: answerTimeoutSeconds, tv_usec: 0)
        _ = try NetfilterError.check("set netlink receive timeout") {
            setsockopt(
                mnl_socket_get_fd(socket), SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        }
        // Acknowledgements without a copy of the acknowledged message, so a large batch's answers fit the receive
        // buffer. Only an optimisation: a kernel without it (ENOPROTOOPT) still works.
        var enabled: Int32 = 1
        if mnl_socket_setsockopt(socket, NETLINK_CAP_ACK, &enabled, socklen_t(MemoryLayout<Int32>.size)) < 0
            && errno != ENOPROTOOPT
        {
            throw NetfilterError(operation: "enable capped netlink acknowledgements", errno: errno)
        }
    }

    deinit {
        mnl_socket_close(socket)
    }

    func makeSequence() -> UInt32 {
        defer { nextSequence &+= 1 }
        return nextSequence
    }

    func send(_ bytes: UnsafeRawBufferPointer, operation: @autoclosure () -> String) throws(NetfilterError) {
        try makeRoom(forSending: bytes.count)
        let sent = try NetfilterError.check(operation()) {
            mnl_socket_sendto(socket, bytes.baseAddress, bytes.count)
        }
        if sent != bytes.count { throw NetfilterError(operation: operation() + " (short write)", errno: EMSGSIZE) }
    }

    /// A batch goes to the kernel as one datagram, which must fit the socket's send buffer (208 KiB by default).
    /// `SO_SNDBUFFORCE` (CAP_NET_ADMIN, which installing needs anyway) lifts the system-wide cap.
    private func makeRoom(forSending size: Int) throws(NetfilterError) {
        let descriptor = mnl_socket_get_fd(socket)
        var current: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        guard getsockopt(descriptor, SOL_SOCKET, SO_SNDBUF, &current, &length) == 0, Int(current) < size + 4096 else {
            return
        }
        var wanted = Int32(size + 4096)
        if setsockopt(descriptor, SOL_SOCKET, SO_SNDBUFFORCE, &wanted, socklen_t(MemoryLayout<Int32>.size)) != 0 {
            _ = try NetfilterError.check("grow the netlink send buffer to \(size) bytes") {
                setsockopt(descriptor, SOL_SOCKET, SO_SNDBUF, &wanted, socklen_t(MemoryLayout<Int32>.size))
            }
        }
    }

    /// Reads datagrams and hands each message in them to `handle` until it returns `false`. Messages addressed to
    /// another socket are skipped.
    ///
    /// With `waitAfterFirst` false, only what is already queued is read after the first datagram: the kernel answers
    /// a batch while `send` runs, so anything missing then is never coming.
    func receive(
        operation: @autoclosure () -> String, waitAfterFirst: Bool = true,
        _ handle: (UnsafePointer<nlmsghdr>) throws(NetfilterError) -> Bool
    ) throws(NetfilterError) {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: Self.receiveBufferSize, alignment: 8)
        defer { buffer.deallocate() }
        let descriptor = mnl_socket_get_fd(socket)
        var flags: Int32 = 0
        while true {
            let received: Int
            do {
                received = try NetfilterError.check(operation()) {
                    recv(descriptor, buffer.baseAddress, buffer.count, flags)
                }
            } catch  where flags != 0 && (error.errno == EAGAIN || error.errno == EWOULDBLOCK) {
                return
            }
            if !waitAfterFirst { flags = Int32(MSG_DONTWAIT) }
            var remaining = Int32(received)
            var message = UnsafePointer(buffer.baseAddress!.assumingMemoryBound(to: nlmsghdr.self))
            while mnl_nlmsg_ok(message, remaining) {
                if message.pointee.nlmsg_pid == portID || message.pointee.nlmsg_pid == 0 {
                    if try !handle(message) { return }
                }
                message = UnsafePointer(mnl_nlmsg_next(message, &remaining))
            }
        }
    }
}
