import CNetfilter
import Interception

#if canImport(Glibc)
    import Glibc
#endif

/// A session with the kernel's nf_tables in the caller's network namespace: installs, reads back and removes the
/// project's table.
public final class NftablesConnection {
    private let socket: NetlinkSocket

    /// Set elements per message: an IPv6 interval element takes about 60 bytes, so 512 stay well inside the 64 KiB
    /// an element list attribute can hold.
    static let elementsPerMessage = 512

    public init() throws(NetfilterError) {
        socket = try NetlinkSocket()
    }

    /// Replaces the table with `ruleset` in one transaction. The table is created, deleted and created again with
    /// its chains and rules in a single batch, so a first install and a re-install are the same operation, and a
    /// refusal anywhere leaves whatever was installed before in force.
    public func install(_ ruleset: Ruleset) throws(NetfilterError) {
        let transaction = NetlinkTransaction(socket: socket)
        let table = NftnlTable(name: ruleset.table)
        let name = "table inet \(ruleset.table)"
        transaction.add("add \(name)", type: Int(NFT_MSG_NEWTABLE.rawValue), flags: NLM_F_CREATE) {
            nftnl_table_nlmsg_build_payload($0, table.pointer)
        }
        transaction.add("delete \(name) to replace it", type: Int(NFT_MSG_DELTABLE.rawValue)) {
            nftnl_table_nlmsg_build_payload($0, table.pointer)
        }
        // Recreated fresh, carrying the plan's fingerprint, so `sidecar-status` can tell later whether it still holds.
        let recorded = NftnlTable(name: ruleset.table, comment: RulesetFingerprint.tableComment(for: ruleset))
        transaction.add("create \(name)", type: Int(NFT_MSG_NEWTABLE.rawValue), flags: NLM_F_CREATE | NLM_F_EXCL) {
            nftnl_table_nlmsg_build_payload($0, recorded.pointer)
        }
        for chain in ruleset.chains {
            let object = NftnlChain(table: ruleset.table, chain: chain)
            transaction.add("add chain \(chain.name)", type: Int(NFT_MSG_NEWCHAIN.rawValue), flags: NLM_F_CREATE) {
                nftnl_chain_nlmsg_build_payload($0, object.pointer)
            }
        }
        var nextSetID: UInt32 = 1
        for chain in ruleset.chains {
            for (index, rule) in chain.rules.enumerated() {
                let what = "rule \(index + 1) of chain \(chain.name) (\(rule.comment))"
                let expressions = RuleCompiler.expressions(for: rule)
                var setIDs: [UInt32] = []
                // A rule's anonymous sets go first, so the rule can refer to them by id within the batch.
                for case .lookup(_, let set, _) in expressions {
                    let id = nextSetID
                    setIDs.append(id)
                    nextSetID += 1
                    let created = NftnlSet(table: ruleset.table, id: id, set: set, elements: [])
                    transaction.add("add set for \(what)", type: Int(NFT_MSG_NEWSET.rawValue), flags: NLM_F_CREATE) {
                        nftnl_set_nlmsg_build_payload($0, created.pointer)
                    }
                    // In shares: an element list is one netlink attribute, whose 16-bit length a large set overflows.
                    for start in stride(from: 0, to: set.elements.count, by: Self.elementsPerMessage) {
                        let share = set.elements[start..<min(start + Self.elementsPerMessage, set.elements.count)]
                        let filled = NftnlSet(table: ruleset.table, id: id, set: set, elements: share)
                        transaction.add(
                            "add set elements for \(what)", type: Int(NFT_MSG_NEWSETELEM.rawValue),
                            flags: NLM_F_CREATE
                        ) { nftnl_set_elems_nlmsg_build_payload($0, filled.pointer) }
                    }
                }
                let object = NftnlRule(
                    table: ruleset.table, chain: chain.name, comment: rule.comment, expressions: expressions,
                    setIDs: setIDs)
                transaction.add(
                    "add \(what)", type: Int(NFT_MSG_NEWRULE.rawValue), flags: NLM_F_CREATE | NLM_F_APPEND
                ) { nftnl_rule_nlmsg_build_payload($0, object.pointer) }
            }
        }
        try transaction.commit()
    }

    /// Deletes the table and everything in it. Returns false when there was no such table.
    @discardableResult
    public func removeTable(named name: String) throws(NetfilterError) -> Bool {
        let transaction = NetlinkTransaction(socket: socket)
        let table = NftnlTable(name: name)
        transaction.add("delete table inet \(name)", type: Int(NFT_MSG_DELTABLE.rawValue)) {
            nftnl_table_nlmsg_build_payload($0, table.pointer)
        }
        do {
            try transaction.commit()
            return true
        } catch  where error.errno == ENOENT {
            return false
        }
    }

    /// Reads the table back with its chains and rules, or nil when it is absent. A dump that a concurrent change
    /// interrupted is read again, as `nft` does, so the answer is one consistent state.
    public func table(named name: String) throws(NetfilterError) -> InstalledTable? {
        var attempt = 1
        while true {
            do {
                return try readTable(named: name)
            } catch  where error.errno == EINTR && attempt < Self.readAttempts {
                attempt += 1
            }
        }
    }

    /// How often a read interrupted by concurrent changes is tried before giving up.
    private static let readAttempts = 5

    private func readTable(named name: String) throws(NetfilterError) -> InstalledTable? {
        guard let table = try tableAttributes(name) else { return nil }
        var chains: [InstalledChain] = []
        try dump(type: Int(NFT_MSG_GETCHAIN.rawValue), what: "chains of table inet \(name)") { _ in
        } handle: { message in
            guard let chain = NftnlChain(parsing: message), chain.table == name else { return }
            chains.append(InstalledChain(name: chain.name, hook: chain.hook, rules: []))
        }
        let sets = try readSets(table: name)
        let filter = NftnlRule(table: name)
        try dump(type: Int(NFT_MSG_GETRULE.rawValue), what: "rules of table inet \(name)") {
            nftnl_rule_nlmsg_build_payload($0, filter.pointer)
        } handle: { message in
            guard let rule = NftnlRule(parsing: message), rule.table == name,
                let index = chains.firstIndex(where: { $0.name == rule.chain })
            else { return }
            chains[index].rules.append(rule.installedRule(sets: sets))
        }
        return InstalledTable(name: name, isDormant: table.isDormant, comment: table.comment, chains: chains)
    }

    /// The table as the kernel describes it, or nil when there is no such table.
    private func tableAttributes(_ name: String) throws(NetfilterError) -> NftnlTable? {
        let query = NftnlTable(name: name)
        var answer: NftnlTable?
        do {
            try request(type: Int(NFT_MSG_GETTABLE.rawValue), flags: NLM_F_ACK, what: "table inet \(name)") {
                nftnl_table_nlmsg_build_payload($0, query.pointer)
            } handle: { message in
                answer = NftnlTable(parsing: message)
            }
        } catch  where error.errno == ENOENT {
            return nil
        }
        return answer
    }

    /// Every NAT base chain at the hooks capture uses, in any table of any family: what could act on a connection
    /// before or alongside our redirect.
    public func natHooks() throws(NetfilterError) -> [HookedChain] {
        var hooked: [HookedChain] = []
        try request(
            type: Int(NFT_MSG_GETCHAIN.rawValue), flags: NLM_F_DUMP, what: "chains of every table",
            family: Int32(NFPROTO_UNSPEC)
        ) { _ in
        } handle: { message in
            guard let chain = NftnlChain(parsing: message), let hook = chain.hook, hook.type == "nat",
                let point = hook.pointName.flatMap(ChainHook.Point.init(rawValue:))
            else { return }
            hooked.append(
                HookedChain(
                    family: chain.familyName, table: chain.table, chain: chain.name, point: point,
                    priority: hook.priority))
        }
        return hooked
    }

    /// The table's sets with their elements, by the names the kernel gave them.
    private func readSets(table: String) throws(NetfilterError) -> [String: AnonymousSet] {
        var sets: [NftnlSet] = []
        let filter = NftnlSet(table: table, name: "")
        try dump(type: Int(NFT_MSG_GETSET.rawValue), what: "sets of table inet \(table)") {
            nftnl_set_nlmsg_build_payload($0, filter.pointer)
        } handle: { message in
            if let set = NftnlSet(parsing: message), set.table == table { sets.append(set) }
        }
        var contents: [String: AnonymousSet] = [:]
        for set in sets {
            let query = NftnlSet(table: table, name: set.name)
            try dump(type: Int(NFT_MSG_GETSETELEM.rawValue), what: "elements of set \(set.name)") {
                nftnl_set_elems_nlmsg_build_payload($0, query.pointer)
            } handle: {
                set.addElements(parsing: $0)
            }
            contents[set.name] = set.contents
        }
        return contents
    }

    /// Dumps every object of a kind in the `inet` family; `payload` may narrow the dump (to a table, a set).
    private func dump(
        type: Int, what: String, payload: (UnsafeMutablePointer<nlmsghdr>) -> Void,
        handle: (UnsafePointer<nlmsghdr>) -> Void
    ) throws(NetfilterError) {
        try request(type: type, flags: NLM_F_DUMP, what: what, payload: payload, handle: handle)
    }

    /// Sends one request and passes each answer to `handle` until the kernel signals the end or an error.
    private func request(
        type: Int, flags: Int32, what: String, family: Int32 = Int32(NFPROTO_INET),
        payload: (UnsafeMutablePointer<nlmsghdr>) -> Void, handle: (UnsafePointer<nlmsghdr>) -> Void
    ) throws(NetfilterError) {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 4096, alignment: 8)
        defer { buffer.deallocate() }
        let sequence = socket.makeSequence()
        let header = nftnl_nlmsg_build_hdr(
            buffer.baseAddress!.assumingMemoryBound(to: CChar.self), UInt16(type), UInt16(family),
            UInt16(NLM_F_REQUEST | flags), sequence)!
        payload(header)
        try socket.send(
            UnsafeRawBufferPointer(start: header, count: Int(header.pointee.nlmsg_len)), operation: "list \(what)")
        var failure: Int32 = 0
        try socket.receive(operation: "list \(what)") { message in
            guard message.pointee.nlmsg_seq == sequence else { return true }
            if Int32(message.pointee.nlmsg_flags) & NLM_F_DUMP_INTR != 0 {
                failure = EINTR
                return false
            }
            switch Int32(message.pointee.nlmsg_type) {
            case NLMSG_DONE:
                // A dump may end with an error code in place of the usual zero.
                failure = -mnl_nlmsg_get_payload(message).assumingMemoryBound(to: Int32.self).pointee
                return false
            case NLMSG_ERROR:
                failure = -mnl_nlmsg_get_payload(message).assumingMemoryBound(to: nlmsgerr.self).pointee.error
                return false
            default:
                handle(message)
                return flags & NLM_F_DUMP != 0 || flags & NLM_F_ACK != 0
            }
        }
        if failure != 0 { throw NetfilterError(operation: "list \(what)", errno: failure) }
    }
}
