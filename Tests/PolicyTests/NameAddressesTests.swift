import Policy
import Testing

/// What names resolved to: kept for their TTL (bounded both ways), compared without regard to case or a trailing
/// dot, bounded in size.
@Suite struct NameAddressesTests {
    let start = ContinuousClock.now

    @Test func anAddressIsCoveredForItsTTL() {
        var names = NameAddresses(asOf: start)
        names.learn("API.Partner.test.", addresses: [([10, 0, 0, 5], 30), ([10, 0, 0, 6], 300)])
        #expect(names.covers("api.partner.test", address: [10, 0, 0, 5]))
        #expect(!names.covers("api.partner.test", address: [10, 0, 0, 7]))
        #expect(!names.covers("other.test", address: [10, 0, 0, 5]))
        names.asOf = start + .seconds(31)
        #expect(!names.covers("api.partner.test", address: [10, 0, 0, 5]))
        #expect(names.addresses(of: "api.partner.test") == [[10, 0, 0, 6]])
    }

    /// A zero TTL still covers the connection that follows the answer; a day-long one no more than an hour.
    @Test func lifetimesAreBounded() {
        var names = NameAddresses(asOf: start)
        names.learn("zero.test", addresses: [([10, 0, 0, 1], 0)])
        names.learn("long.test", addresses: [([10, 0, 0, 2], 86_400)])
        names.asOf = start + .seconds(4)
        #expect(names.covers("zero.test", address: [10, 0, 0, 1]))
        names.asOf = start + .seconds(3601)
        #expect(!names.covers("long.test", address: [10, 0, 0, 2]))
    }

    @Test func theBookIsBounded() {
        var names = NameAddresses(asOf: start)
        for index in 0..<(NameAddresses.maximumNames + 10) {
            names.learn("n\(index).test", addresses: [([10, 0, UInt8(index >> 8 & 0xff), UInt8(index & 0xff)], 60)])
        }
        let kept = (0..<(NameAddresses.maximumNames + 10)).filter { !names.addresses(of: "n\($0).test").isEmpty }
        #expect(kept.count <= NameAddresses.maximumNames)
        #expect(!names.addresses(of: "n\(NameAddresses.maximumNames + 9).test").isEmpty, "the newest is kept")
        var many = NameAddresses(asOf: start)
        many.learn("many.test", addresses: (0..<100).map { ([10, 1, 0, UInt8($0)], 60) })
        #expect(many.addresses(of: "many.test").count == NameAddresses.maximumAddressesPerName)
    }

    /// An answer's A and AAAA records, whichever name owns them (a CNAME's target).
    @Test func answersGiveTheirAddresses() throws {
        let response = try #require(DNSMessage(DNSBytes.response("a.example", ttls: [60, 30])))
        #expect(response.answerAddresses.map(\.address) == [[10, 1, 2, 0], [10, 1, 2, 1]])
        #expect(response.answerAddresses.map(\.ttl) == [60, 30])
        let query = try #require(DNSMessage(DNSMessage.query(name: "a.example", type: 28, id: 7)))
        #expect(query.question == DNSMessage.Question(name: "a.example", type: 28, class: 1) && query.id == 7)
    }
}
