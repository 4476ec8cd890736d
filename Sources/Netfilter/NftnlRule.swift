import CNetfilter

/// A libnftnl rule object, built from the ruleset model or parsed from a kernel answer; freed when released.
final class NftnlRule {
    let pointer: OpaquePointer

    /// A rule of `expressions`; lookups refer to their sets by the ids in `setIDs`, in order of appearance.
    init(table: String, chain: String, comment: String, expressions: [NetfilterExpression], setIDs: [UInt32]) {
        pointer = nftnl_rule_alloc()
        nftnl_rule_set_u32(pointer, UInt16(NFTNL_RULE_FAMILY.rawValue), UInt32(NFPROTO_INET))
        _ = nftnl_rule_set_str(pointer, UInt16(NFTNL_RULE_TABLE.rawValue), table)
        _ = nftnl_rule_set_str(pointer, UInt16(NFTNL_RULE_CHAIN.rawValue), chain)
        var remainingSetIDs = setIDs[...]
        for expression in expressions {
            let setID = if case .lookup = expression { remainingSetIDs.popFirst() } else { UInt32?.none }
            nftnl_rule_add_expr(pointer, expression.makeNftnlExpression(setID: setID))
        }
        UserDataComment.encode(comment) {
            _ = nftnl_rule_set_data(pointer, UInt16(NFTNL_RULE_USERDATA.rawValue), $0, $1)
        }
    }

    /// A rule that names only its table: narrows a rule dump to that table.
    init(table: String) {
        pointer = nftnl_rule_alloc()
        nftnl_rule_set_u32(pointer, UInt16(NFTNL_RULE_FAMILY.rawValue), UInt32(NFPROTO_INET))
        _ = nftnl_rule_set_str(pointer, UInt16(NFTNL_RULE_TABLE.rawValue), table)
    }

    init?(parsing message: UnsafePointer<nlmsghdr>) {
        pointer = nftnl_rule_alloc()
        if nftnl_rule_nlmsg_parse(message, pointer) < 0 { return nil }
    }

    deinit {
        nftnl_rule_free(pointer)
    }

    var table: String {
        nftnl_rule_get_str(pointer, UInt16(NFTNL_RULE_TABLE.rawValue)).map { String(cString: $0) } ?? ""
    }

    var chain: String {
        nftnl_rule_get_str(pointer, UInt16(NFTNL_RULE_CHAIN.rawValue)).map { String(cString: $0) } ?? ""
    }

    /// The rule as read back: its bytecode (lookups resolved against the table's `sets`), comment and counters.
    func installedRule(sets: [String: AnonymousSet]) -> InstalledRule {
        var expressions: [NetfilterExpression] = []
        var packets: UInt64 = 0
        var bytes: UInt64 = 0
        let iterator = nftnl_expr_iter_create(pointer)
        defer { nftnl_expr_iter_destroy(iterator) }
        while let expression = nftnl_expr_iter_next(iterator) {
            let decoded = NetfilterExpression(decoding: expression, sets: sets)
            if decoded == .counter {
                packets += nftnl_expr_get_u64(expression, UInt16(NFTNL_EXPR_CTR_PACKETS))
                bytes += nftnl_expr_get_u64(expression, UInt16(NFTNL_EXPR_CTR_BYTES))
            }
            expressions.append(decoded)
        }
        return InstalledRule(
            handle: nftnl_rule_get_u64(pointer, UInt16(NFTNL_RULE_HANDLE.rawValue)), comment: comment,
            packets: packets, bytes: bytes, expressions: expressions)
    }

    private var comment: String? {
        var length: UInt32 = 0
        guard let data = nftnl_rule_get_data(pointer, UInt16(NFTNL_RULE_USERDATA.rawValue), &length) else { return nil }
        return UserDataComment.decode(data, length: length)
    }
}
