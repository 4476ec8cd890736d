import NIOCore

/// A request held back until the first bytes of its body are known, for the signatures to read before it is
/// decided: its parts, in order, and a copy of the body's first `limit` bytes. It is complete once that many have
/// arrived or the request has ended; the parts then go on as if never held (or are dropped, if it is refused).
/// Generic over a part: HTTP/1's request parts, HTTP/2's frames.
struct HeldRequestBody<Part> {
    let limit: Int
    private(set) var parts: [Part] = []
    private(set) var prefix: [UInt8] = []
    private(set) var isComplete = false

    init(limit: Int) {
        self.limit = limit
        prefix.reserveCapacity(limit)
    }

    /// Keeps `part`, which carries `bytes` of the body (nil for none) and may end the request.
    /// - Returns: whether the hold is complete now.
    mutating func add(_ part: Part, carrying bytes: ByteBuffer?, ends: Bool) -> Bool {
        parts.append(part)
        if let bytes, prefix.count < limit {
            prefix += bytes.readableBytesView.prefix(limit - prefix.count)
        }
        isComplete = isComplete || ends || prefix.count >= limit
        return isComplete
    }
}
