import CNetfilter

/// Comments on tables and rules travel as userdata in the TLV layout `nft` writes (libnftnl's udata), so that
/// `nft list` shows ours and we can read anyone's.
enum UserDataComment {
    /// Tables and rules both keep their comment under this attribute type
    /// (`NFTNL_UDATA_TABLE_COMMENT` and `NFTNL_UDATA_RULE_COMMENT` are both 0).
    static let attributeType = UInt8(NFTNL_UDATA_RULE_COMMENT.rawValue)

    /// The kernel's limit on userdata (`NFT_USERDATA_MAXLEN`).
    private static let capacity: UInt32 = 256

    /// Encodes `comment` and hands the bytes to `store` (e.g. `nftnl_rule_set_data`) while they are valid.
    static func encode(_ comment: String, store: (UnsafeRawPointer, UInt32) -> Void) {
        let buffer = nftnl_udata_buf_alloc(capacity)!
        defer { nftnl_udata_buf_free(buffer) }
        _ = nftnl_udata_put_strz(buffer, attributeType, comment)
        store(nftnl_udata_buf_data(buffer), nftnl_udata_buf_len(buffer))
    }

    static func decode(_ data: UnsafeRawPointer, length: UInt32) -> String? {
        var found: String?
        _ = withUnsafeMutablePointer(to: &found) { slot in
            nftnl_udata_parse(
                data, length,
                { attribute, context in
                    guard let attribute, nftnl_udata_type(attribute) == UserDataComment.attributeType else { return 0 }
                    // Bounded by the attribute's length: a comment written by another tool may lack the final NUL.
                    let bytes = UnsafeRawBufferPointer(
                        start: nftnl_udata_get(attribute), count: Int(nftnl_udata_len(attribute)))
                    context!.assumingMemoryBound(to: String?.self).pointee = String(
                        decoding: bytes.prefix { $0 != 0 }, as: UTF8.self)
                    return 0
                }, slot)
        }
        return found
    }
}
