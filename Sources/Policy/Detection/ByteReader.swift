/// Reads big-endian integers and length-prefixed vectors from a slice, failing rather than reading past its end.
struct ByteReader {
    private var bytes: ArraySlice<UInt8>

    init(_ bytes: ArraySlice<UInt8>) {
        self.bytes = bytes
    }

    var isAtEnd: Bool { bytes.isEmpty }

    /// The bytes as printable ASCII text (host names, protocol ids), or nil.
    var text: String? {
        bytes.allSatisfy { (0x21...0x7e).contains($0) } ? String(decoding: bytes, as: UTF8.self) : nil
    }

    /// The bytes as text, with anything outside printable ASCII written `\xNN`.
    var escapedText: String {
        bytes.map { (0x21...0x7e).contains($0) ? String(UnicodeScalar($0)) : "\\x" + String($0, radix: 16) }
            .joined()
    }

    mutating func integer(bytes count: Int) -> Int? {
        guard bytes.count >= count else { return nil }
        defer { bytes = bytes.dropFirst(count) }
        return bytes.prefix(count).reduce(0) { $0 << 8 | Int($1) }
    }

    mutating func skip(_ count: Int) -> Bool {
        guard bytes.count >= count else { return false }
        bytes = bytes.dropFirst(count)
        return true
    }

    mutating func vector(lengthBytes: Int) -> ByteReader? {
        guard let length = integer(bytes: lengthBytes), bytes.count >= length else { return nil }
        defer { bytes = bytes.dropFirst(length) }
        return ByteReader(bytes.prefix(length))
    }

    mutating func skipVector(lengthBytes: Int) -> Bool {
        vector(lengthBytes: lengthBytes) != nil
    }
}
