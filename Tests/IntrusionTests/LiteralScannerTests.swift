import Testing

@testable import Intrusion

@Suite struct LiteralScannerTests {
    private func found(_ strings: [String], in text: String) -> [Int] {
        let scanner = LiteralScanner(strings.enumerated().map { (Array($0.element.utf8), $0.offset) })
        var found = [Bool](repeating: false, count: strings.count)
        scanner.scan(Array(text.utf8), into: &found)
        return found.indices.filter { found[$0] }
    }

    @Test func findsEveryStringThatOccurs() {
        #expect(found(["he", "she", "his", "hers"], in: "ushers") == [0, 1, 3])
        #expect(found(["abc", "bcd", "x"], in: "abbcd") == [1])
        #expect(found(["aab"], in: "aaab") == [0])
        #expect(found(["a", "b"], in: "cdef") == [])
    }
}
