import Testing

@testable import Intrusion

@Suite struct PatternTests {
    private func match(_ pattern: String, _ text: String) throws -> String? {
        let compiled = try Pattern(pattern)
        let bytes = Array(text.lowercased().utf8)
        return compiled.firstMatch(in: bytes).map { String(decoding: bytes[$0], as: UTF8.self) }
    }

    @Test func literalsClassesAndRepeats() throws {
        #expect(try match("union", "id=1 UNION select") == "union")
        #expect(try match(#"a\d+b"#, "xa123by") == "a123b")
        #expect(try match(#"a\d+b"#, "xab") == nil)
        #expect(try match("[^x]yz", "xyz ayz") == "ayz")
        #expect(try match("colou?r", "color") == "color")
        #expect(try match("(ab|cd){2}", "abcd") == "abcd")
        #expect(try match("(ab|cd){2,3}", "ab cd") == nil)
        #expect(try match(#"x\.y"#, "xay x.y") == "x.y")
        #expect(try match(#"\x41b"#, "AB") == "ab")
        #expect(try match("[A-C]+", "xxBCA") == "b")
        #expect(try match("[^A]", "a") == nil)
        #expect(try match("a{,", "a{,") == "a{,")
        #expect(try match(#"\(\) \{"#, "() {") == "() {")
    }

    /// The first match to end is found, starting as early as that match allows.
    @Test func firstMatchToEnd() throws {
        #expect(try match("b+c|abcd", "abbcd") == "bbc")
        #expect(try match("a.*z", "a z z") == "a z")
    }

    @Test func refusesWhatWouldBacktrackOrIsMalformed() {
        for pattern in [
            "", "(a", "a)", "[ab", #"(a)\1"#, "(?=a)", "^a", "a$", "a*?", "a++", "*a", #"\q"#, "a{3,2}", "a{65}",
            #"\x4"#, "[z-a]", #"a\"#, String(repeating: "a", count: 1025),
        ] {
            #expect(throws: PatternError.self, "\(pattern)") { try Pattern(pattern) }
        }
    }

    @Test func programSizeIsBounded() {
        #expect(throws: PatternError.self) { try Pattern("((((a{64}){64}){64}){64})") }
    }

    /// The classic catastrophic pattern for a backtracking engine runs here in one pass: 100,000 bytes of `a` with
    /// no match at the end. The check is on the result, not the time: a backtracking engine would never return.
    @Test func hostileInputIsLinear() throws {
        let pattern = try Pattern("(a+)+b|(a|aa)+c|(.*a){20}x")
        #expect(pattern.firstMatch(in: Array(repeating: UInt8(ascii: "a"), count: 100_000)) == nil)
    }

    @Test func requiredLiterals() throws {
        #expect(try Pattern(#"union[\s+]+select"#).requiredLiterals == [Array("select".utf8)])
        #expect(try Pattern("sqlmap|nikto").requiredLiterals == [Array("sqlmap".utf8), Array("nikto".utf8)])
        #expect(try Pattern("a?b*").requiredLiterals == nil)
        #expect(try Pattern("(x|y*)z").requiredLiterals == [Array("z".utf8)])
        #expect(try Pattern("ABC").requiredLiterals == [Array("abc".utf8)])
    }
}
