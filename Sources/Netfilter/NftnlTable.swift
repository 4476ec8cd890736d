import CNetfilter

/// A libnftnl table object of the `inet` family, freed when released.
final class NftnlTable {
    let pointer: OpaquePointer

    init(name: String) {
        pointer = nftnl_table_alloc()
        nftnl_table_set_u32(pointer, UInt16(NFTNL_TABLE_FAMILY.rawValue), UInt32(NFPROTO_INET))
        _ = nftnl_table_set_str(pointer, UInt16(NFTNL_TABLE_NAME.rawValue), name)
    }

    deinit {
        nftnl_table_free(pointer)
    }
}
