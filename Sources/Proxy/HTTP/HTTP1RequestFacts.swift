import NIOHTTP1
import Policy

/// An HTTP/1.1 request head as policy sees it: read in place from NIO's header storage.
struct HTTP1RequestFacts: HTTPRequestFacts {
    let head: HTTPRequestHead
    let target: RequestTarget

    var method: String { head.method.rawValue }

    /// The target's own authority wins over the Host header (RFC 9112 section 3.2.2).
    var host: Substring? {
        if let authority = target.authority { return RequestTarget.host(ofAuthority: authority) }
        return head.headers.first(name: "host").flatMap { RequestTarget.host(ofAuthority: Substring($0)) }
    }

    func hasHeader(_ name: String, value: String) -> Bool {
        head.headers.contains { field in
            field.value == value && field.name.utf8.elementsEqual(name.utf8) { Self.lowercased($0) == $1 }
        }
    }

    /// Header names are ASCII tokens, compared without regard to case; `name` is already lower case.
    private static func lowercased(_ byte: UInt8) -> UInt8 {
        (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte) ? byte | 0x20 : byte
    }
}
