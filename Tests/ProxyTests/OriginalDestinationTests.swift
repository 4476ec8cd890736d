import NIOCore
import Testing

@testable import Proxy

@Suite struct OriginalDestinationTests {
    /// `struct sockaddr_in` as the kernel fills it: family in host order, then port and address in network order.
    @Test func decodesSockaddrIn() throws {
        let bytes: [UInt8] = [2, 0, 0x1f, 0x90, 10, 1, 2, 3] + [UInt8](repeating: 0, count: 8)
        let destination = try #require(OriginalDestination(sockaddr: bytes))
        #expect(destination.address.ipAddress == "10.1.2.3")
        #expect(destination.port == 8080)
        #expect(destination.description == "10.1.2.3:8080")
        #expect(!destination.isLoopback)
    }

    /// `struct sockaddr_in6`: family, port, flow info, 16 address bytes, scope id.
    @Test func decodesSockaddrIn6() throws {
        let address: [UInt8] = [0xfd, 0, 0, 9] + [UInt8](repeating: 0, count: 11) + [5]
        let bytes: [UInt8] = [10, 0, 0x01, 0xbb, 0, 0, 0, 0] + address + [0, 0, 0, 0]
        let destination = try #require(OriginalDestination(sockaddr: bytes))
        #expect(destination.address.ipAddress == "fd00:9::5")
        #expect(destination.port == 443)
        #expect(destination.description == "[fd00:9::5]:443")
    }

    @Test func recognisesLoopback() throws {
        let v4 = try #require(OriginalDestination(sockaddr: [2, 0, 0x3a, 0x99, 127, 0, 0, 1]))
        let v6 = try #require(
            OriginalDestination(sockaddr: [10, 0, 0x3a, 0x99, 0, 0, 0, 0] + [UInt8](repeating: 0, count: 15) + [1]))
        #expect(v4.isLoopback && v4.port == 15001)
        #expect(v6.isLoopback)
    }

    @Test(arguments: [
        [UInt8](), [2], [2, 0, 0, 80, 10, 0, 0], [10, 0, 0, 80] + [UInt8](repeating: 0, count: 19),
        [1, 0, 0, 80, 10, 0, 0, 1], [0x02, 0x01, 0, 80, 10, 0, 0, 1],
    ])
    func rejectsTruncatedOrForeignAddresses(bytes: [UInt8]) {
        #expect(OriginalDestination(sockaddr: bytes) == nil)
    }
}
