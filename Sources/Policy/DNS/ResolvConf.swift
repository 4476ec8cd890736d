import Interception

/// The nameservers a `resolv.conf` lists, in order: where the DNS proxy forwards what it does not answer itself.
public enum ResolvConf {
    /// Reads `nameserver ADDRESS` lines (IPv4 or IPv6, comments and other options ignored). A line whose address
    /// does not parse is reported, never skipped silently.
    public static func nameservers(in text: String) -> (nameservers: [IPNetwork], problems: [String]) {
        var nameservers: [IPNetwork] = []
        var problems: [String] = []
        for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let words = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard words.first == "nameserver" else { continue }
            guard words.count >= 2, let address = try? IPNetwork(parsing: String(words[1])), address.isHost else {
                problems.append("line \(index + 1): '\(line)' does not name a nameserver address")
                continue
            }
            nameservers.append(address)
        }
        return (nameservers, problems)
    }
}
