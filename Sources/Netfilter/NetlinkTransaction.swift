import CNetfilter

#if canImport(Glibc)
    import Glibc
#endif

/// One nf_tables batch: the kernel applies every message in it, or none.
///
/// Each message asks for an acknowledgement, and its sequence number remembers what it was for, so a refusal is
/// reported as "add rule 4 to chain output: Invalid argument", not as a bare errno.
final class NetlinkTransaction {
    private let buffer: UnsafeMutableRawBufferPointer
    private let batch: OpaquePointer
    private let socket: NetlinkSocket
    /// The batch-begin message's number: the kernel answers a refusal of the whole batch (no `CAP_NET_ADMIN`, no
    /// nf_tables) against it, and nothing else.
    private let batchSequence: UInt32
    private var operations: [UInt32: String] = [:]
    private var overflowed = false

    /// The largest batch sent at once (thousands of set elements fit); the buffer holds twice that, since libmnl lets
    /// the last message overrun. Pages are touched only as far as the batch reaches.
    private static let batchLimit = 4 * 1024 * 1024

    init(socket: NetlinkSocket) {
        self.socket = socket
        buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 2 * Self.batchLimit, alignment: 8)
        batch = mnl_nlmsg_batch_start(buffer.baseAddress, Self.batchLimit)
        batchSequence = socket.makeSequence()
        nftnl_batch_begin(currentMessage, batchSequence)
        advance()
    }

    deinit {
        mnl_nlmsg_batch_stop(batch)
        buffer.deallocate()
    }

    /// Appends one message; `payload` fills in the object it carries.
    func add(
        _ operation: String, type: Int, flags: Int32 = 0, payload: (UnsafeMutablePointer<nlmsghdr>) -> Void
    ) {
        let sequence = socket.makeSequence()
        let header = nftnl_nlmsg_build_hdr(
            currentMessage, UInt16(type), UInt16(NFPROTO_INET), UInt16(flags | NLM_F_ACK), sequence)!
        payload(header)
        operations[sequence] = operation
        advance()
    }

    /// Sends the batch and waits for every acknowledgement; throws the first refusal the kernel reports.
    func commit() throws(NetfilterError) {
        nftnl_batch_end(currentMessage, socket.makeSequence())
        advance()
        if overflowed {
            throw NetfilterError(operation: "build a batch of \(operations.count) messages", errno: EMSGSIZE)
        }
        try socket.send(
            UnsafeRawBufferPointer(start: mnl_nlmsg_batch_head(batch), count: mnl_nlmsg_batch_size(batch)),
            operation: "send nftables batch")
        var pending = Set(operations.keys)
        var refusals: [(sequence: UInt32, errno: Int32)] = []
        try socket.receive(operation: "read nftables acknowledgements", waitAfterFirst: false) { message in
            guard message.pointee.nlmsg_type == UInt16(NLMSG_ERROR) else { return true }
            let answer = mnl_nlmsg_get_payload(message).assumingMemoryBound(to: nlmsgerr.self).pointee
            let sequence = answer.msg.nlmsg_seq
            guard pending.remove(sequence) != nil || sequence == batchSequence else { return true }
            if answer.error != 0 { refusals.append((sequence, -answer.error)) }
            return !pending.isEmpty
        }
        if let first = refusals.min(by: { $0.sequence < $1.sequence }) {
            throw NetfilterError(operation: operations[first.sequence] ?? "apply nftables batch", errno: first.errno)
        }
        if !pending.isEmpty {
            throw NetfilterError(operation: "nftables batch: \(pending.count) messages unacknowledged", errno: EPROTO)
        }
    }

    private var currentMessage: UnsafeMutablePointer<CChar> {
        mnl_nlmsg_batch_current(batch).assumingMemoryBound(to: CChar.self)
    }

    private func advance() {
        if !mnl_nlmsg_batch_next(batch) { overflowed = true }
    }
}
