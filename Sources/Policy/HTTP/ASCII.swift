/// Byte-level tests of ASCII names (host names, header names) without allocating.
public enum ASCII {
    /// The byte with an ASCII letter lower-cased.
    public static func lowercased(_ byte: UInt8) -> UInt8 {
        (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte) ? byte | 0x20 : byte
    }

    /// True when `text` equals `lowercase` (already lower case) but for the case of ASCII letters.
    public static func equals(_ text: some Sequence<UInt8>, lowercase: some Sequence<UInt8>) -> Bool {
        text.elementsEqual(lowercase) { lowercased($0) == $1 }
    }

    /// RFC 9110 tchar: what an HTTP method or field name is made of.
    public static func isTokenCharacter(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"):
            true
        default:
            "!#$%&'*+-.^_`|~".utf8.contains(byte)
        }
    }

    /// An HTTP method or field name: one or more tchar.
    public static func isToken(_ text: String) -> Bool {
        !text.isEmpty && text.utf8.allSatisfy(isTokenCharacter)
    }
}
