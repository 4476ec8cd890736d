/// Durations as the config and flags write them: `300ms`, `1s`, `5m`, `1h` (a whole number and a unit).
public enum DurationText {
    /// Why a duration was rejected, naming the text.
    public struct ParseError: Error, CustomStringConvertible {
        public let text: String
        public var description: String {
            "'\(text)' is not a duration: write a whole number and ms, s, m or h (e.g. 300ms, 5s)"
        }
    }

    public static func parse(_ text: String) throws(ParseError) -> Duration {
        let digits = text.prefix { $0.isASCII && $0.isNumber }
        guard !digits.isEmpty, let value = Int64(digits) else { throw ParseError(text: text) }
        switch text.dropFirst(digits.count) {
        case "ms": return .milliseconds(value)
        case "s": return .seconds(value)
        case "m" where value <= Int64.max / 60: return .seconds(value * 60)
        case "h" where value <= Int64.max / 3600: return .seconds(value * 3600)
        default: throw ParseError(text: text)
        }
    }
}
