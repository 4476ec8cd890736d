import CNetfilter
import Interception

/// A libnftnl rule object, built from the ruleset model or parsed from a kernel answer; freed when released.
final class NftnlRule {
    let pointer: OpaquePointer

    init(table: String, chain: String, rule: Rule) {
        pointer = nftnl_rule_alloc()
        nftnl_rule_set_u32(pointer, UInt16(NFTNL_RULE_FAMILY.rawValue), UInt32(NFPROTO_INET))
        _ = nftnl_rule_set_str(pointer, UInt16(NFTNL_RULE_TABLE.rawValue), table)
        _ = nftnl_rule_set_str(pointer, UInt16(NFTNL_RULE_CHAIN.rawValue), chain)
        for expression in RuleCompiler.expressions(for: rule) {
            nftnl_rule_add_expr(pointer, expression.makeNftnlExpression())
        }
        UserDataComment.encode(rule.comment) {
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

    /// The rule as read back: its bytecode, comment and counter values.
    var installedRule: InstalledRule {
        var expressions: [NetfilterExpression] = []
        var packets: UInt64 = 0
        var bytes: UInt64 = 0
        let iterator = nftnl_expr_iter_create(pointer)
        defer { nftnl_expr_iter_destroy(iterator) }
        while let expression = nftnl_expr_iter_next(iterator) {
            let decoded = NetfilterExpression(decoding: expression)
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
