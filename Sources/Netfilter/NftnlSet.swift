import CNetfilter

/// A libnftnl set object: an anonymous set to create in a batch, or a set and its elements read back from the
/// kernel. Freed when released.
final class NftnlSet {
    let pointer: OpaquePointer

    /// The name an anonymous set is created under; the kernel replaces `%d` with a number.
    static let anonymousName = "__set%d"

    /// An anonymous, constant set described by `set`, carrying `elements` (a share of the set's, or none for the
    /// message that creates it); rules and element messages in the same batch refer to it by `id`.
    init(table: String, id: UInt32, set: AnonymousSet, elements: ArraySlice<AnonymousSet.Element>) {
        pointer = nftnl_set_alloc()
        _ = nftnl_set_set_str(pointer, UInt16(NFTNL_SET_TABLE.rawValue), table)
        _ = nftnl_set_set_str(pointer, UInt16(NFTNL_SET_NAME.rawValue), Self.anonymousName)
        setU32(NFTNL_SET_FAMILY, UInt32(NFPROTO_INET))
        setU32(NFTNL_SET_ID, id)
        let interval = set.isInterval ? NFT_SET_INTERVAL.rawValue : 0
        setU32(NFTNL_SET_FLAGS, NFT_SET_ANONYMOUS.rawValue | NFT_SET_CONSTANT.rawValue | interval)
        setU32(NFTNL_SET_KEY_TYPE, set.keyType)
        setU32(NFTNL_SET_KEY_LEN, set.keyLength)
        recordKeyByteOrder(of: set)
        for element in elements {
            let object = nftnl_set_elem_alloc()!
            _ = element.key.withUnsafeBytes {
                nftnl_set_elem_set(object, UInt16(NFTNL_SET_ELEM_KEY), $0.baseAddress, UInt32($0.count))
            }
            if element.isIntervalEnd {
                nftnl_set_elem_set_u32(
                    object, UInt16(NFTNL_SET_ELEM_FLAGS), NFT_SET_ELEM_INTERVAL_END.rawValue)
            }
            nftnl_set_elem_add(pointer, object)
        }
    }

    /// A set named `name`, without elements: asks the kernel for that set's elements.
    init(table: String, name: String) {
        pointer = nftnl_set_alloc()
        _ = nftnl_set_set_str(pointer, UInt16(NFTNL_SET_TABLE.rawValue), table)
        _ = nftnl_set_set_str(pointer, UInt16(NFTNL_SET_NAME.rawValue), name)
        setU32(NFTNL_SET_FAMILY, UInt32(NFPROTO_INET))
    }

    init?(parsing message: UnsafePointer<nlmsghdr>) {
        pointer = nftnl_set_alloc()
        if nftnl_set_nlmsg_parse(message, pointer) < 0 { return nil }
    }

    deinit {
        nftnl_set_free(pointer)
    }

    var table: String { string(NFTNL_SET_TABLE) }
    var name: String { string(NFTNL_SET_NAME) }

    /// Adds the elements a `GETSETELEM` answer carries.
    func addElements(parsing message: UnsafePointer<nlmsghdr>) {
        _ = nftnl_set_elems_nlmsg_parse(message, pointer)
    }

    /// The set as the planner would have described it.
    var contents: AnonymousSet {
        var elements: [AnonymousSet.Element] = []
        let iterator = nftnl_set_elems_iter_create(pointer)
        defer { nftnl_set_elems_iter_destroy(iterator) }
        while let element = nftnl_set_elems_iter_next(iterator) {
            var length: UInt32 = 0
            let key = nftnl_set_elem_get(element, UInt16(NFTNL_SET_ELEM_KEY), &length)
            // libnftnl reads an unset attribute through a null pointer: ask first.
            let flags =
                nftnl_set_elem_is_set(element, UInt16(NFTNL_SET_ELEM_FLAGS))
                ? nftnl_set_elem_get_u32(element, UInt16(NFTNL_SET_ELEM_FLAGS)) : 0
            elements.append(
                AnonymousSet.Element(
                    key: key.map { Array(UnsafeRawBufferPointer(start: $0, count: Int(length))) } ?? [],
                    isIntervalEnd: flags & NFT_SET_ELEM_INTERVAL_END.rawValue != 0))
        }
        return AnonymousSet(
            keyType: u32(NFTNL_SET_KEY_TYPE), keyLength: u32(NFTNL_SET_KEY_LEN),
            isInterval: u32(NFTNL_SET_FLAGS) & NFT_SET_INTERVAL.rawValue != 0, elements: elements)
    }

    /// nft reads a set key's byte order from the set's userdata; without it, it prints interface names (kept in host
    /// order, unlike ports and addresses) as empty strings. The values are nft's `BYTEORDER_HOST_ENDIAN` and
    /// `BYTEORDER_BIG_ENDIAN`.
    private func recordKeyByteOrder(of set: AnonymousSet) {
        let byteOrder: UInt32 = set.keyType == AnonymousSet.KeyType.interfaceName ? 1 : 2
        let buffer = nftnl_udata_buf_alloc(64)!
        defer { nftnl_udata_buf_free(buffer) }
        _ = nftnl_udata_put_u32(buffer, UInt8(NFTNL_UDATA_SET_KEYBYTEORDER.rawValue), byteOrder)
        _ = nftnl_set_set_data(
            pointer, UInt16(NFTNL_SET_USERDATA.rawValue), nftnl_udata_buf_data(buffer), nftnl_udata_buf_len(buffer))
    }

    private func setU32(_ attribute: nftnl_set_attr, _ value: UInt32) {
        nftnl_set_set_u32(pointer, UInt16(attribute.rawValue), value)
    }

    private func u32(_ attribute: nftnl_set_attr) -> UInt32 {
        nftnl_set_get_u32(pointer, UInt16(attribute.rawValue))
    }

    private func string(_ attribute: nftnl_set_attr) -> String {
        nftnl_set_get_str(pointer, UInt16(attribute.rawValue)).map { String(cString: $0) } ?? ""
    }
}
