/// A DNS message (RFC 1035), read as far as the DNS proxy needs: its id and flags, its question, and where its
/// records' TTLs are, so a cached answer can be served with another id and with the time it spent in the cache
/// taken off. Parsing never reads past the end and follows name compression at most 64 times, so a hostile
/// message fails to parse instead of looping.
public struct DNSMessage: Sendable {
    public private(set) var bytes: [UInt8]
    public let question: Question?
    /// Offsets of the TTL of every record (the EDNS OPT pseudo-record has none).
    private let ttlOffsets: [Int]
    /// The smallest TTL among answer records, and the negative-caching TTL an authority SOA gives (RFC 2308).
    private let answerTTL: UInt32?
    private let negativeTTL: UInt32?
    /// The UDP payload size an EDNS OPT record offers (RFC 6891); nil without EDNS.
    public let ednsPayloadSize: Int?
    /// DO, in the EDNS OPT record: the asker wants DNSSEC records (RFC 3225).
    public let dnssecOK: Bool
    /// How many questions the message has; a query has one (RFC 9619).
    public let questionCount: Int
    /// The A and AAAA records of the answer section, whatever name owns them (a CNAME's target owns the addresses
    /// of the name asked), with their TTLs: the addresses the question's name resolved to.
    public let answerAddresses: [(address: [UInt8], ttl: UInt32)]

    public struct Question: Sendable, Hashable {
        /// Lowercased, without the trailing dot; a byte outside printable ASCII is written `\DDD`.
        public var name: String
        public var type: UInt16
        public var `class`: UInt16

        public init(name: String, type: UInt16, class: UInt16) {
            self.name = name
            self.type = type
            self.class = `class`
        }

        /// `A`, `AAAA`, ... or the number.
        public var typeName: String {
            let names: [UInt16: String] = [
                1: "A", 2: "NS", 5: "CNAME", 6: "SOA", 12: "PTR", 15: "MX", 16: "TXT", 28: "AAAA", 33: "SRV",
                65: "HTTPS", 255: "ANY",
            ]
            return names[type] ?? "TYPE\(type)"
        }
    }

    /// Response codes the proxy answers with or looks at.
    public enum ResponseCode: UInt8, Sendable {
        case noError = 0
        case formatError = 1
        case serverFailure = 2
        case nameError = 3
    }

    public var id: UInt16 { UInt16(bytes[0]) << 8 | UInt16(bytes[1]) }
    public var isResponse: Bool { bytes[2] & 0x80 != 0 }
    public var isTruncated: Bool { bytes[2] & 0x02 != 0 }
    public var responseCode: UInt8 { bytes[3] & 0x0F }
    /// CD: the asker does its own DNSSEC validation and wants answers that failed it too (RFC 4035).
    public var checkingDisabled: Bool { bytes[3] & 0x10 != 0 }

    /// Nil when the bytes are not a well-formed message.
    public init?(_ bytes: [UInt8]) {
        guard bytes.count >= 12, bytes.count <= 65535 else { return nil }
        self.bytes = bytes
        let count = { (offset: Int) in Int(bytes[offset]) << 8 | Int(bytes[offset + 1]) }
        let (questions, answers, authorities, additionals) = (count(4), count(6), count(8), count(10))
        var offset = 12
        var question: Question?
        for index in 0..<questions {
            guard let (name, end) = Self.name(in: bytes, at: offset), end + 4 <= bytes.count else { return nil }
            if index == 0 {
                question = Question(name: name, type: UInt16(count(end)), class: UInt16(count(end + 2)))
            }
            offset = end + 4
        }
        var ttlOffsets: [Int] = []
        var answerTTL: UInt32?
        var negativeTTL: UInt32?
        var ednsPayloadSize: Int?
        var dnssecOK = false
        var answerAddresses: [(address: [UInt8], ttl: UInt32)] = []
        for section in 0..<3 {
            for _ in 0..<[answers, authorities, additionals][section] {
                guard let (_, end) = Self.name(in: bytes, at: offset), end + 10 <= bytes.count else { return nil }
                let type = count(end)
                // A TTL with the top bit set is to be read as zero (RFC 2181 section 8).
                let raw = Self.integer32(bytes, at: end + 4)
                let ttl = raw & 0x8000_0000 == 0 ? raw : 0
                let dataLength = count(end + 8)
                let data = end + 10
                guard data + dataLength <= bytes.count else { return nil }
                if type == 41 {
                    ednsPayloadSize = count(end + 2)
                    dnssecOK = bytes[end + 6] & 0x80 != 0
                } else {  // OPT carries EDNS flags where a TTL would be.
                    ttlOffsets.append(end + 4)
                    if section == 0 { answerTTL = min(answerTTL ?? ttl, ttl) }
                    if section == 0, (type == 1 && dataLength == 4) || (type == 28 && dataLength == 16) {
                        answerAddresses.append((Array(bytes[data..<(data + dataLength)]), ttl))
                    }
                    if section == 1, type == 6, let minimum = Self.soaMinimum(bytes, data: data, length: dataLength) {
                        negativeTTL = min(ttl, minimum)
                    }
                }
                offset = data + dataLength
            }
        }
        self.question = question
        self.ttlOffsets = ttlOffsets
        self.answerTTL = answerTTL
        self.negativeTTL = negativeTTL
        self.ednsPayloadSize = ednsPayloadSize
        self.dnssecOK = dnssecOK
        self.questionCount = questions
        self.answerAddresses = answerAddresses
    }

    /// The most a UDP answer to this query may hold: what its EDNS record offers, else 512 bytes (RFC 1035).
    public var udpAnswerLimit: Int { max(512, ednsPayloadSize ?? 512) }

    /// How long this response may be served from a cache: the smallest answer TTL, or for a name that does not
    /// exist or has no such record, the authority's negative TTL. Nil when it is not to be cached (a failure, a
    /// truncated answer, or one without any TTL to go by).
    public var cacheLifetime: UInt32? {
        guard isResponse, !isTruncated, question != nil else { return nil }
        switch responseCode {
        case ResponseCode.noError.rawValue: return answerTTL ?? negativeTTL
        case ResponseCode.nameError.rawValue: return negativeTTL
        default: return nil
        }
    }

    /// The same message with another id, and every TTL lowered by `age` seconds (never below zero).
    public func answering(id: UInt16, aged age: UInt32) -> [UInt8] {
        var bytes = self.bytes
        bytes[0] = UInt8(id >> 8)
        bytes[1] = UInt8(id & 0xFF)
        for offset in ttlOffsets {
            let ttl = Self.integer32(bytes, at: offset)
            let lowered = ttl > age ? ttl - age : 0
            for index in 0..<4 { bytes[offset + index] = UInt8(truncatingIfNeeded: lowered >> (24 - 8 * index)) }
        }
        return bytes
    }

    /// A message with its id replaced, for forwarding under an id of the proxy's choosing.
    public func withID(_ id: UInt16) -> [UInt8] {
        var bytes = self.bytes
        bytes[0] = UInt8(id >> 8)
        bytes[1] = UInt8(id & 0xFF)
        return bytes
    }

    /// A recursive query for one name's records of `type` (1: A, 28: AAAA), as a stub resolver sends it.
    public static func query(name: String, type: UInt16, id: UInt16) -> [UInt8] {
        var bytes: [UInt8] = [UInt8(id >> 8), UInt8(id & 0xFF), 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]
        for label in name.split(separator: ".") { bytes += [UInt8(label.utf8.count)] + Array(label.utf8) }
        return bytes + [0, UInt8(type >> 8), UInt8(type & 0xFF), 0, 1]
    }

    /// The proxy's own answer to a query: its id and question, the recursion flag it asked with, and `code`;
    /// `truncated` sets TC, which sends the client to TCP for the whole answer.
    public func reply(_ code: ResponseCode, truncated: Bool = false) -> [UInt8] {
        var header: [UInt8] = [
            bytes[0], bytes[1], 0x80 | (truncated ? 0x02 : 0) | (bytes[2] & 0x01), 0x80 | code.rawValue,
        ]
        guard question != nil, let end = Self.name(in: bytes, at: 12)?.end else {
            return header + [0, 0, 0, 0, 0, 0, 0, 0]
        }
        header += [0, 1, 0, 0, 0, 0, 0, 0]
        return header + bytes[12..<(end + 4)]
    }

    /// A name at `offset`, following compression pointers; returns it and where the name ends in place.
    static func name(in bytes: [UInt8], at offset: Int) -> (name: String, end: Int)? {
        var labels: [String] = []
        var position = offset
        var end: Int?
        var jumps = 0
        var length = 0
        while true {
            guard position < bytes.count else { return nil }
            let size = Int(bytes[position])
            if size & 0xC0 == 0xC0 {
                guard position + 1 < bytes.count, jumps < 64 else { return nil }
                if end == nil { end = position + 2 }
                position = (size & 0x3F) << 8 | Int(bytes[position + 1])
                jumps += 1
                continue
            }
            guard size & 0xC0 == 0 else { return nil }
            if size == 0 {
                return (labels.joined(separator: "."), end ?? position + 1)
            }
            length += size + 1
            guard position + 1 + size <= bytes.count, length <= 255 else { return nil }
            labels.append(label(bytes[(position + 1)...(position + size)]))
            position += 1 + size
        }
    }

    private static func label(_ bytes: ArraySlice<UInt8>) -> String {
        var text = ""
        for byte in bytes {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"): text.append(Character(UnicodeScalar(byte + 32)))
            case 0x21...0x7E where byte != UInt8(ascii: "."): text.append(Character(UnicodeScalar(byte)))
            default: text += "\\" + String(byte).leftPadded(to: 3)
            }
        }
        return text
    }

    private static func integer32(_ bytes: [UInt8], at offset: Int) -> UInt32 {
        bytes[offset..<(offset + 4)].reduce(0) { $0 << 8 | UInt32($1) }
    }

    /// The MINIMUM field of SOA record data: the last four bytes, after two names and four counters.
    private static func soaMinimum(_ bytes: [UInt8], data: Int, length: Int) -> UInt32? {
        guard let (_, primaryEnd) = name(in: bytes, at: data), let (_, mailboxEnd) = name(in: bytes, at: primaryEnd),
            mailboxEnd + 20 == data + length
        else { return nil }
        return integer32(bytes, at: mailboxEnd + 16)
    }
}

extension String {
    fileprivate func leftPadded(to length: Int) -> String {
        String(repeating: "0", count: max(0, length - count)) + self
    }
}
