import CNetfilter

/// A libnftnl table object of the `inet` family, built by name or parsed from a kernel answer; freed when released.
final class NftnlTable {
    let pointer: OpaquePointer

    init(name: String, comment: String? = nil) {
        pointer = nftnl_table_alloc()
        nftnl_table_set_u32(pointer, UInt16(NFTNL_TABLE_FAMILY.rawValue), UInt32(NFPROTO_INET))
        _ = nftnl_table_set_str(pointer, UInt16(NFTNL_TABLE_NAME.rawValue), name)
        if let comment {
            UserDataComment.encode(comment) {
                _ = nftnl_table_set_data(pointer, UInt16(NFTNL_TABLE_USERDATA.rawValue), $0, $1)
            }
        }
    }

    init?(parsing message: UnsafePointer<nlmsghdr>) {
        pointer = nftnl_table_alloc()
        if nftnl_table_nlmsg_parse(message, pointer) < 0 { return nil }
    }

    /// Dormant: the table exists but its chains are detached from their hooks, so its rules are not in force.
    var isDormant: Bool {
        nftnl_table_get_u32(pointer, UInt16(NFTNL_TABLE_FLAGS.rawValue)) & UInt32(NFT_TABLE_F_DORMANT.rawValue) != 0
    }

    var comment: String? {
        var length: UInt32 = 0
        guard let data = nftnl_table_get_data(pointer, UInt16(NFTNL_TABLE_USERDATA.rawValue), &length) else {
            return nil
        }
        return UserDataComment.decode(data, length: length)
    }

    deinit {
        nftnl_table_free(pointer)
    }
}
