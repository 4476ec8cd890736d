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

    func header(_ name: String) -> String? {
        head.headers.first(name: name)
    }

    func firstHeaderField<Result>(_ body: (_ name: String, _ value: String) -> Result?) -> Result? {
        for field in head.headers {
            if let result = body(field.name.lowercased(), field.value) { return result }
        }
        return nil
    }

    func hasHeader(_ name: String, matching value: HeaderValueMatch, ignoringCase: Bool) -> Bool {
        head.headers.contains { field in
            ASCII.equals(field.name.utf8, lowercase: name.utf8)
                && value.matches(field.value, ignoringCase: ignoringCase)
        }
    }
}
