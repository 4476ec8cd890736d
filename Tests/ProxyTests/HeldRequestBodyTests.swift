import NIOCore
import Testing

@testable import Proxy

/// A held request keeps its parts in order and a copy of the body's first bytes, and is complete at the limit or
/// at the request's end, whichever comes first.
@Suite struct HeldRequestBodyTests {
    func buffer(_ text: String) -> ByteBuffer { ByteBuffer(string: text) }

    @Test func completeOnceTheLimitIsReached() {
        var held = HeldRequestBody<String>(limit: 8)
        let afterHead = held.add("head", carrying: nil, ends: false)
        let afterFive = held.add("a", carrying: buffer("abcde"), ends: false)
        let afterTen = held.add("b", carrying: buffer("fghij"), ends: false)
        #expect([afterHead, afterFive, afterTen] == [false, false, true])
        #expect(held.parts == ["head", "a", "b"])
        #expect(String(decoding: held.prefix, as: UTF8.self) == "abcdefgh")
        #expect(held.isComplete)
    }

    @Test func completeAtTheEndOfAShortBody() {
        var held = HeldRequestBody<String>(limit: 4096)
        let afterHead = held.add("head", carrying: nil, ends: false)
        let afterBody = held.add("body", carrying: buffer(#"{"a":1}"#), ends: false)
        let afterEnd = held.add("end", carrying: nil, ends: true)
        #expect([afterHead, afterBody, afterEnd] == [false, false, true])
        #expect(held.prefix == Array(#"{"a":1}"#.utf8))
    }

    @Test func aBodyInTheLastFrameCompletesItToo() {
        var held = HeldRequestBody<String>(limit: 4096)
        let complete = held.add("data+end", carrying: buffer("x=1"), ends: true)
        #expect(complete)
        #expect(held.prefix == Array("x=1".utf8))
    }
}
