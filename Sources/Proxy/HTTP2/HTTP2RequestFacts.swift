import NIOHPACK
import Policy

/// An HTTP/2 request's header block as policy sees it: read in place from the HPACK headers.
struct HTTP2RequestFacts: HTTPRequestFacts {
    let headers: HPACKHeaders
    let target: RequestTarget

    /// Nil when the pseudo-headers do not make a target (NIO has already refused blocks missing required ones), or
    /// when a Host header names another host than `:authority`.
    init?(headers: HPACKHeaders) {
        self.headers = headers
        let method = headers.first(name: ":method") ?? ""
        // Plain CONNECT names only an authority; extended CONNECT (RFC 8441) has a path like any request.
        let path = headers.first(name: ":path")
        guard
            let target = path.flatMap({ RequestTarget(parsing: $0, isConnect: false) })
                ?? (method == "CONNECT"
                    ? headers.first(name: ":authority").flatMap {
                        RequestTarget(parsing: $0, isConnect: true)
                    } : nil)
        else { return nil }
        // Rules decide on :authority; an upstream routing on Host must not see another name (RFC 9113 8.3.1).
        if let authority = headers.first(name: ":authority"), let host = headers.first(name: "host"),
            RequestTarget.host(ofAuthority: Substring(authority))?.lowercased()
                != RequestTarget.host(ofAuthority: Substring(host))?.lowercased()
        {
            return nil
        }
        self.target = target
    }

    var method: String { headers.first(name: ":method") ?? "" }

    /// `:authority`, or `Host` when a client sent that instead (RFC 9113 section 8.3.1).
    var host: Substring? {
        (headers.first(name: ":authority") ?? headers.first(name: "host")).flatMap {
            RequestTarget.host(ofAuthority: Substring($0))
        }
    }

    func header(_ name: String) -> String? {
        headers.first(name: name)
    }

    /// Pseudo-headers are the target and the authority, which are read as such.
    func firstHeaderField<Result>(_ body: (_ name: String, _ value: String) -> Result?) -> Result? {
        for field in headers where !field.name.hasPrefix(":") {
            if let result = body(field.name, field.value) { return result }
        }
        return nil
    }

    /// HTTP/2 field names are lower case on the wire (NIO refuses others).
    func hasHeader(_ name: String, matching value: HeaderValueMatch, ignoringCase: Bool) -> Bool {
        headers.contains { $0.name == name && value.matches($0.value, ignoringCase: ignoringCase) }
    }
}
