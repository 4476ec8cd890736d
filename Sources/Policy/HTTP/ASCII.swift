/// Case-insensitive comparison of ASCII names (host names, header names) without allocating.
public enum ASCII {
    /// The byte with an ASCII letter lower-cased.
    public static func lowercased(_ byte: UInt8) -> UInt8 {
        (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte) ? byte | 0x20 : byte
    }

    /// True when `text` equals `lowercase` (already lower case) but for the case of ASCII letters.
    public static func equals(_ text: some Sequence<UInt8>, lowercase: some Sequence<UInt8>) -> Bool {
        text.elementsEqual(lowercase) { lowercased($0) == $1 }
    }
}
