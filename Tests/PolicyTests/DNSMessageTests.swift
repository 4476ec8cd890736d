import Interception
import Policy
import Testing

/// DNS messages built by hand, as a resolver would send them.
enum DNSBytes {
    static func name(_ name: String) -> [UInt8] {
        name.split(separator: ".").flatMap { [UInt8($0.utf8.count)] + Array($0.utf8) } + [0]
    }

    /// - Parameter edns: the UDP payload size of an EDNS OPT record to add, if any.
    static func query(_ name: String, type: UInt16 = 1, id: UInt16 = 0x1234, edns: UInt16? = nil) -> [UInt8] {
        var bytes: [UInt8] = [UInt8(id >> 8), UInt8(id & 0xFF), 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, edns == nil ? 0 : 1]
        bytes += Self.name(name) + [UInt8(type >> 8), UInt8(type & 0xFF), 0, 1]
        if let edns { bytes += [0, 0, 41, UInt8(edns >> 8), UInt8(edns & 0xFF), 0, 0, 0, 0, 0, 0] }
        return bytes
    }

    static func ttl(_ value: UInt32) -> [UInt8] {
        (0..<4).map { UInt8(truncatingIfNeeded: value >> (24 - 8 * $0)) }
    }

    /// An answer to `query("…")`: A records whose names point back at the question (compression), and an EDNS OPT.
    static func response(_ name: String, ttls: [UInt32], id: UInt16 = 0x1234) -> [UInt8] {
        var bytes: [UInt8] = [
            UInt8(id >> 8), UInt8(id & 0xFF), 0x81, 0x80, 0, 1, UInt8(ttls.count >> 8), UInt8(ttls.count & 0xFF), 0, 0,
            0, 1,
        ]
        bytes += Self.name(name) + [0, 1, 0, 1]
        for (index, ttl) in ttls.enumerated() {
            bytes += [0xC0, 12, 0, 1, 0, 1] + Self.ttl(ttl) + [0, 4, 10, 1, 2, UInt8(index & 0xFF)]
        }
        bytes += [0, 0, 41, 0x04, 0xD0, 0, 0, 0x80, 0, 0, 0]
        return bytes
    }

    /// NXDOMAIN with the zone's SOA in the authority section.
    static func nameError(_ name: String, soaTTL: UInt32, minimum: UInt32) -> [UInt8] {
        var bytes: [UInt8] = [0x12, 0x34, 0x81, 0x83, 0, 1, 0, 0, 0, 1, 0, 0]
        bytes += Self.name(name) + [0, 1, 0, 1]
        let data =
            Self.name("ns.test") + Self.name("admin.test") + [0, 0, 0, 1] + ttl(60) + ttl(60) + ttl(60) + ttl(minimum)
        bytes += Self.name("test") + [0, 6, 0, 1] + ttl(soaTTL) + [0, UInt8(data.count)] + data
        return bytes
    }
}

@Suite struct DNSMessageTests {
    @Test func aQueryIsReadWithItsQuestion() throws {
        let query = try #require(DNSMessage(DNSBytes.query("Api.Example.COM", type: 28)))
        #expect(query.id == 0x1234 && !query.isResponse)
        #expect(query.question == DNSMessage.Question(name: "api.example.com", type: 28, class: 1))
        #expect(query.question?.typeName == "AAAA")
    }

    @Test func malformedMessagesAreRefused() {
        let query = DNSBytes.query("a.example")
        #expect(DNSMessage(Array(query.prefix(11))) == nil, "shorter than a header")
        #expect(DNSMessage(Array(query.dropLast())) == nil, "question cut short")
        // A name pointing at itself would loop forever.
        var looping = Array(query.prefix(12)) + [0xC0, 12, 0, 1, 0, 1]
        #expect(DNSMessage(looping) == nil)
        looping = Array(query.prefix(12)) + [0x41] + Array(repeating: 0x61, count: 0x41) + [0, 0, 1, 0, 1]
        #expect(DNSMessage(looping) == nil, "labels are at most 63 bytes")
        var answer = DNSBytes.response("a.example", ttls: [60])
        answer[7] = 5
        #expect(DNSMessage(answer) == nil, "more answers counted than present")
    }

    @Test func anAnswerIsCachedForItsSmallestTTL() throws {
        let response = try #require(DNSMessage(DNSBytes.response("a.example", ttls: [300, 30, 120])))
        #expect(response.cacheLifetime == 30)
        let nxdomain = try #require(DNSMessage(DNSBytes.nameError("gone.test", soaTTL: 900, minimum: 45)))
        #expect(nxdomain.cacheLifetime == 45, "negative answers: the SOA's smaller of TTL and minimum")
        var failure = DNSBytes.response("a.example", ttls: [300])
        failure[3] = 0x82
        #expect(DNSMessage(failure)?.cacheLifetime == nil, "SERVFAIL is not cached")
        var truncated = DNSBytes.response("a.example", ttls: [300])
        truncated[2] |= 0x02
        #expect(DNSMessage(truncated)?.cacheLifetime == nil)
    }

    @Test func aCachedAnswerGoesOutWithTheQueryIDAndAgedTTLs() throws {
        let response = try #require(DNSMessage(DNSBytes.response("a.example", ttls: [300, 30])))
        let aged = try #require(DNSMessage(response.answering(id: 0xBEEF, aged: 40)))
        #expect(aged.id == 0xBEEF)
        #expect(aged.cacheLifetime == 0, "30 - 40 stops at zero")
        let again = try #require(DNSMessage(response.answering(id: 1, aged: 10)))
        #expect(again.cacheLifetime == 20)
        // The OPT record's flags (where a TTL would be) are untouched.
        #expect(Array(again.bytes.suffix(6).prefix(4)) == [0, 0, 0x80, 0], "the DO bit, not a TTL")
    }

    @Test func theProxysOwnReplyEchoesTheQuestion() throws {
        let query = try #require(DNSMessage(DNSBytes.query("evil.example", id: 0x4242)))
        let reply = try #require(DNSMessage(query.reply(.nameError)))
        #expect(reply.id == 0x4242 && reply.isResponse && reply.responseCode == 3 && !reply.isTruncated)
        #expect(DNSMessage(query.reply(.noError, truncated: true))?.isTruncated == true)
        #expect(reply.question == query.question)
        #expect(reply.bytes[2] & 0x01 == 0x01, "recursion desired, as asked")
    }

    @Test func oddBytesInNamesAreEscaped() throws {
        var query = DNSBytes.query("a.example")
        query[13] = 0x07
        #expect(DNSMessage(query)?.question?.name == "\\007.example")
    }
}

@Suite struct DNSCacheTests {
    let start = ContinuousClock.now

    func response(_ name: String, ttl: UInt32) throws -> DNSMessage {
        try #require(DNSMessage(DNSBytes.response(name, ttls: [ttl])))
    }

    func plainQuery(_ name: String) throws -> DNSMessage {
        try #require(DNSMessage(DNSBytes.query(name)))
    }

    @Test func answersToQueriesWithAndWithoutEDNSAreKeptApart() throws {
        var cache = DNSCache()
        let withEDNS = try #require(DNSMessage(DNSBytes.query("a.example", edns: 1232)))
        #expect(withEDNS.ednsPayloadSize == 1232 && withEDNS.udpAnswerLimit == 1232)
        #expect(try plainQuery("a.example").udpAnswerLimit == 512)
        cache.store(try response("a.example", ttl: 60), answering: withEDNS, now: start)
        let (plain, edns) = (cache.answer(try plainQuery("a.example"), now: start), cache.answer(withEDNS, now: start))
        #expect(plain == nil, "its OPT record must not reach a client that sent none")
        #expect(edns != nil)
    }

    /// CD (checking disabled) and DO (DNSSEC OK) ask for other answers: a validating client's DNSSEC records, or
    /// answers that failed validation, are never served to a query without those bits, nor the other way round.
    @Test func answersToQueriesWithOtherCDOrDOBitsAreKeptApart() throws {
        var cache = DNSCache()
        var checkingDisabled = DNSBytes.query("a.example", edns: 1232)
        checkingDisabled[3] |= 0x10
        var dnssecOK = DNSBytes.query("a.example", edns: 1232)
        dnssecOK[dnssecOK.count - 4] = 0x80
        let plain = try #require(DNSMessage(DNSBytes.query("a.example", edns: 1232)))
        let cd = try #require(DNSMessage(checkingDisabled))
        let dok = try #require(DNSMessage(dnssecOK))
        #expect(cd.checkingDisabled && !cd.dnssecOK && dok.dnssecOK && !dok.checkingDisabled)
        #expect(!plain.checkingDisabled && !plain.dnssecOK)
        cache.store(try response("a.example", ttl: 60), answering: dok, now: start)
        #expect(cache.answer(plain, now: start) == nil && cache.answer(cd, now: start) == nil)
        #expect(cache.answer(dok, now: start) != nil)
    }

    /// A query counts its questions; one with two is to be refused (RFC 9619), not half answered.
    @Test func questionsAreCounted() throws {
        var twoQuestions = DNSBytes.query("a.example")
        twoQuestions[5] = 2
        twoQuestions += DNSBytes.name("b.example") + [0, 1, 0, 1]
        let query = try #require(DNSMessage(twoQuestions))
        #expect(query.questionCount == 2 && query.question?.name == "a.example")
        let reply = try #require(DNSMessage(query.reply(.formatError)))
        #expect(reply.responseCode == 1 && reply.questionCount == 1)
    }

    @Test func theCacheIsBoundedInBytesAndTakesNoGiant() throws {
        var cache = DNSCache(capacity: 1000, maxBytes: 1000)
        for index in 0..<100 {
            cache.store(
                try response("n\(index).example", ttl: UInt32(100 + index)),
                answering: try plainQuery("n\(index).example"), now: start)
        }
        #expect(cache.count < 30, "about 45 bytes each in 1000 bytes: \(cache.count)")
        let kept = cache.answer(try plainQuery("n99.example"), now: start)
        #expect(kept != nil, "the latest and longest-lived stays")
        let giant = DNSBytes.response("big.example", ttls: Array(repeating: 60, count: 1200))
        var large = DNSCache()
        large.store(try #require(DNSMessage(giant)), answering: try plainQuery("big.example"), now: start)
        #expect(large.count == 0, "over 16 KiB: passed on, never kept")
    }

    @Test func aTTLWithItsTopBitSetCountsAsZero() throws {
        var bytes = DNSBytes.response("a.example", ttls: [60])
        // The answer's TTL sits after its name pointer (2), type (2) and class (2).
        let ttlOffset = 12 + DNSBytes.name("a.example").count + 4 + 6
        bytes.replaceSubrange(ttlOffset..<(ttlOffset + 4), with: [0x80, 0, 0, 1])
        #expect(DNSMessage(bytes)?.cacheLifetime == 0)
    }

    @Test func answersAreServedUntilTheyExpire() throws {
        var cache = DNSCache()
        cache.store(try response("a.example", ttl: 30), answering: try plainQuery("a.example"), now: start)
        let query = try #require(DNSMessage(DNSBytes.query("A.example", id: 7)))
        let cached = cache.answer(query, now: start + .seconds(10))
        let hit = try #require(cached)
        #expect(DNSMessage(hit)?.id == 7 && DNSMessage(hit)?.cacheLifetime == 20)
        let expired = cache.answer(query, now: start + .seconds(30))
        #expect(expired == nil && cache.count == 0)
        let other = try #require(DNSMessage(DNSBytes.query("a.example", type: 28)))
        let otherType = cache.answer(other, now: start)
        #expect(otherType == nil, "another type is another question")
    }

    @Test func fullCachesLetTheSoonestExpiringGo() throws {
        var cache = DNSCache(capacity: 2)
        cache.store(try response("a.example", ttl: 300), answering: try plainQuery("a.example"), now: start)
        cache.store(try response("b.example", ttl: 10), answering: try plainQuery("b.example"), now: start)
        cache.store(try response("c.example", ttl: 100), answering: try plainQuery("c.example"), now: start)
        #expect(cache.count == 2)
        let b = try #require(DNSMessage(DNSBytes.query("b.example")))
        let a = try #require(DNSMessage(DNSBytes.query("a.example")))
        let (evicted, kept) = (cache.answer(b, now: start), cache.answer(a, now: start))
        #expect(evicted == nil && kept != nil)
    }

    @Test func nothingIsKeptLongerThanAnHour() throws {
        var cache = DNSCache()
        cache.store(try response("a.example", ttl: 86400), answering: try plainQuery("a.example"), now: start)
        let query = try #require(DNSMessage(DNSBytes.query("a.example")))
        let (before, after) = (
            cache.answer(query, now: start + .seconds(3599)), cache.answer(query, now: start + .seconds(3600))
        )
        #expect(before != nil && after == nil)
    }
}

@Suite struct ResolvConfTests {
    @Test func nameserversAreReadInOrder() {
        let (nameservers, problems) = ResolvConf.nameservers(
            in: """
                # generated
                search default.svc.cluster.local svc.cluster.local
                nameserver 10.96.0.10
                nameserver\tfd00::a
                options ndots:5
                nameserver not-an-address
                """)
        #expect(nameservers.map(\.description) == ["10.96.0.10", "fd00::a"])
        #expect(problems == ["line 6: 'nameserver not-an-address' does not name a nameserver address"])
    }
}
