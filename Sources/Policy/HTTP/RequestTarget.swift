/// An HTTP request target, read for policy: the authority it names (absolute or authority form) and its path in the
/// normal form that rules match against. The request is forwarded with its target unchanged; only matching uses the
/// normal form, so `/a/../admin`, `//admin` and `/%61dmin` cannot slip past a rule on `/admin`.
public struct RequestTarget: Sendable, Hashable {
    /// The host and port named in the target itself (`http://host:port/...` or CONNECT's `host:port`).
    public let authority: Substring?
    /// The normalized path, without query or fragment; empty for authority form, `*` for asterisk form.
    public let path: String
    /// The target as sent, query included: signatures read it, since the normal form hides what an attack looks
    /// like (`/a/../../etc/passwd` is `/etc/passwd`).
    public let asSent: String

    /// Nil when the target is none of the four forms of RFC 9112 section 3.2.
    public init?(parsing target: String, isConnect: Bool) {
        asSent = target
        if isConnect {
            // Authority form, and only for CONNECT: host:port, nothing else.
            guard !target.isEmpty, !target.contains("/"), !target.contains("@") else { return nil }
            authority = Substring(target)
            path = ""
            return
        }
        if target == "*" {
            authority = nil
            path = "*"
            return
        }
        var rest = Substring(target)
        // Origin form, by far the most common, names no scheme: only a target that does not start with `/` is
        // searched for one.
        if rest.first != "/", let schemeEnd = rest.range(of: "://"),
            ["http", "https"].contains(rest[rest.startIndex..<schemeEnd.lowerBound].lowercased())
        {
            rest = rest[schemeEnd.upperBound...]
            let authorityEnd = rest.firstIndex { $0 == "/" || $0 == "?" || $0 == "#" } ?? rest.endIndex
            let named = rest[rest.startIndex..<authorityEnd]
            guard !named.isEmpty, !named.contains("@") else { return nil }
            authority = named
            rest = rest[authorityEnd...]
            if rest.isEmpty || rest.first == "?" { rest = "/" + rest }
        } else {
            authority = nil
        }
        guard rest.first == "/" else { return nil }
        let pathEnd = rest.firstIndex { $0 == "?" || $0 == "#" } ?? rest.endIndex
        path = Self.normalize(rest[rest.startIndex..<pathEnd])
        guard !path.isEmpty else { return nil }
    }

    /// The host of an authority (`Host` header or target), without port or IPv6 brackets' port; nil when malformed.
    public static func host(ofAuthority authority: Substring) -> Substring? {
        if authority.first == "[" {
            guard let close = authority.firstIndex(of: "]") else { return nil }
            return authority[authority.index(after: authority.startIndex)..<close]
        }
        let host = authority.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)[0]
        return host.isEmpty ? nil : host
    }

    /// RFC 3986 normalization for matching: percent-encoded unreserved characters decoded (other escapes kept, hex
    /// upper-cased), runs of `/` merged, and `.` and `..` segments removed (never above the root). Empty when the
    /// path has a malformed escape.
    static func normalize(_ path: Substring) -> String {
        var decoded: [UInt8] = []
        decoded.reserveCapacity(path.utf8.count)
        var bytes = path.utf8.makeIterator()
        while let byte = bytes.next() {
            guard byte == UInt8(ascii: "%") else {
                decoded.append(byte)
                continue
            }
            guard let high = bytes.next().flatMap(hexValue), let low = bytes.next().flatMap(hexValue) else {
                return ""
            }
            let value = high << 4 | low
            if isUnreserved(value) {
                decoded.append(value)
            } else {
                decoded.append(contentsOf: [UInt8(ascii: "%"), hexDigits[Int(high)], hexDigits[Int(low)]])
            }
        }
        var segments: [ArraySlice<UInt8>] = []
        for segment in decoded.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: true) {
            if segment.elementsEqual([UInt8(ascii: ".")]) { continue }
            if segment.elementsEqual([UInt8(ascii: "."), UInt8(ascii: ".")]) {
                _ = segments.popLast()
                continue
            }
            segments.append(segment)
        }
        let last = decoded.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: true).last
        let endsAsDirectory =
            decoded.last == UInt8(ascii: "/") || last.map { $0.allSatisfy { $0 == UInt8(ascii: ".") } } == true
        var normal = segments.map { "/" + String(decoding: $0, as: UTF8.self) }.joined()
        if normal.isEmpty || (endsAsDirectory && !normal.hasSuffix("/")) { normal += "/" }
        return normal
    }

    private static let hexDigits = Array("0123456789ABCDEF".utf8)

    private static func hexValue(_ digit: UInt8) -> UInt8? {
        switch digit {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): digit - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): digit - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): digit - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    private static func isUnreserved(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"),
            UInt8(ascii: "~"):
            true
        default: false
        }
    }
}
