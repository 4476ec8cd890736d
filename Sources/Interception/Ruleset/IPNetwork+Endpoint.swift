extension IPNetwork {
    /// Reads `10.1.2.3:443` or `[fd00::1]:443`: a host address and a port; nil for anything else.
    public static func endpoint(parsing text: String) -> (address: IPNetwork, port: UInt16)? {
        guard let colon = text.lastIndex(of: ":"), let port = UInt16(text[text.index(after: colon)...]), port > 0
        else { return nil }
        var host = text[..<colon]
        if host.first == "[" && host.last == "]" { host = host.dropFirst().dropLast() }
        guard let address = try? IPNetwork(parsing: String(host)), address.isHost else { return nil }
        return (address, port)
    }
}
