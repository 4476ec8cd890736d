/// Parses the comma-separated lists that flags, environment variables and config strings use: `22,8000-8999`,
/// `10.0.0.0/8, fd00::/8`, `*` for "all". Every entry is checked; the first bad one is reported with its text.
public enum CaptureListParser {
    /// The entries of a comma list, trimmed; an empty text is an empty list, but an empty entry between commas is
    /// kept, so that `22,,23` is reported rather than read as `22,23`.
    public static func entries(_ text: String) -> [String] {
        text.split(separator: ",", omittingEmptySubsequences: false).map {
            String($0.drop { $0 == " " }.reversed().drop { $0 == " " }.reversed())
        }.filter { !$0.isEmpty || text.contains(",") }
    }

    public static func ports(_ text: String) throws(PortRange.ParseError) -> [PortRange] {
        var ranges: [PortRange] = []
        for entry in entries(text) { ranges.append(try PortRange(parsing: entry)) }
        return ranges
    }

    /// `*` for every port (nil), or a list.
    public static func portsOrAll(_ text: String) throws(PortRange.ParseError) -> [PortRange]? {
        text.trimmingSpaces == "*" ? nil : try ports(text)
    }

    public static func networks(_ text: String) throws(IPNetwork.ParseError) -> [IPNetwork] {
        var networks: [IPNetwork] = []
        for entry in entries(text) { networks.append(try IPNetwork(parsing: entry)) }
        return networks
    }

    /// `*` for every destination (nil), or a list.
    public static func networksOrAll(_ text: String) throws(IPNetwork.ParseError) -> [IPNetwork]? {
        text.trimmingSpaces == "*" ? nil : try networks(text)
    }

    /// Numeric ids, such as uids and gids.
    public static func ids(_ text: String) -> Result<[UInt32], IDParseError> {
        var ids: [UInt32] = []
        for entry in entries(text) {
            guard let id = UInt32(entry) else { return .failure(IDParseError(text: entry)) }
            ids.append(id)
        }
        return .success(ids)
    }

    /// An id that is not a whole number from 0 to 4294967295.
    public struct IDParseError: Error, CustomStringConvertible {
        public let text: String
        public var description: String { "'\(text)' is not a numeric id (0-4294967295)" }
    }
}

extension String {
    fileprivate var trimmingSpaces: String {
        String(drop { $0 == " " }.reversed().drop { $0 == " " }.reversed())
    }
}
