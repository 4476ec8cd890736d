import CNetfilter
import Interception

/// A libnftnl chain object, built from the ruleset model or parsed from a kernel answer; freed when released.
final class NftnlChain {
    let pointer: OpaquePointer

    init(table: String, chain: Chain) {
        pointer = nftnl_chain_alloc()
        set(NFTNL_CHAIN_FAMILY, UInt32(NFPROTO_INET))
        _ = nftnl_chain_set_str(pointer, UInt16(NFTNL_CHAIN_TABLE.rawValue), table)
        _ = nftnl_chain_set_str(pointer, UInt16(NFTNL_CHAIN_NAME.rawValue), chain.name)
        if let hook = chain.hook {
            _ = nftnl_chain_set_str(pointer, UInt16(NFTNL_CHAIN_TYPE.rawValue), hook.kind.rawValue)
            set(NFTNL_CHAIN_HOOKNUM, Self.hookNumber(hook.point))
            set(NFTNL_CHAIN_PRIO, UInt32(bitPattern: hook.priority))
            set(NFTNL_CHAIN_POLICY, UInt32(NF_ACCEPT))
        }
    }

    init?(parsing message: UnsafePointer<nlmsghdr>) {
        pointer = nftnl_chain_alloc()
        if nftnl_chain_nlmsg_parse(message, pointer) < 0 { return nil }
    }

    deinit {
        nftnl_chain_free(pointer)
    }

    var table: String { string(NFTNL_CHAIN_TABLE) ?? "" }

    /// The table's family as nft writes it (`ip`, `ip6`, `inet`, ...).
    var familyName: String {
        switch Int(nftnl_chain_get_u32(pointer, UInt16(NFTNL_CHAIN_FAMILY.rawValue))) {
        case Int(NFPROTO_IPV4): "ip"
        case Int(NFPROTO_IPV6): "ip6"
        case Int(NFPROTO_INET): "inet"
        case Int(NFPROTO_BRIDGE): "bridge"
        case Int(NFPROTO_NETDEV): "netdev"
        case Int(NFPROTO_ARP): "arp"
        case let other: "family \(other)"
        }
    }
    var name: String { string(NFTNL_CHAIN_NAME) ?? "" }

    /// The hook as the kernel holds it, or nil for a regular chain.
    var hook: InstalledChain.Hook? {
        guard nftnl_chain_is_set(pointer, UInt16(NFTNL_CHAIN_HOOKNUM.rawValue)) else { return nil }
        return InstalledChain.Hook(
            type: string(NFTNL_CHAIN_TYPE) ?? "",
            number: nftnl_chain_get_u32(pointer, UInt16(NFTNL_CHAIN_HOOKNUM.rawValue)),
            priority: Int32(bitPattern: nftnl_chain_get_u32(pointer, UInt16(NFTNL_CHAIN_PRIO.rawValue))),
            acceptsByDefault: nftnl_chain_get_u32(pointer, UInt16(NFTNL_CHAIN_POLICY.rawValue)) == UInt32(NF_ACCEPT))
    }

    /// The kernel's number for a hook point (`NF_INET_*`).
    static func hookNumber(_ point: ChainHook.Point) -> UInt32 {
        switch point {
        case .output: UInt32(NF_INET_LOCAL_OUT.rawValue)
        case .prerouting: UInt32(NF_INET_PRE_ROUTING.rawValue)
        }
    }

    private func set(_ attribute: nftnl_chain_attr, _ value: UInt32) {
        nftnl_chain_set_u32(pointer, UInt16(attribute.rawValue), value)
    }

    private func string(_ attribute: nftnl_chain_attr) -> String? {
        nftnl_chain_get_str(pointer, UInt16(attribute.rawValue)).map { String(cString: $0) }
    }
}
