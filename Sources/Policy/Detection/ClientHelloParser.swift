/// Reads a TLS ClientHello from the first bytes of a connection, however it is split over TCP segments or TLS
/// records, for its server name (SNI) and ALPN protocols. Pure and bounded: it never reads past what it is given,
/// and malformed input ends as `.notTLS`, never a crash.
public enum ClientHelloParser {
    public enum Result: Sendable, Hashable {
        /// The bytes so far are a valid beginning: wait until there are at least this many.
        case needMoreData(atLeast: Int)
        /// Not a ClientHello (or one malformed or larger than we read): treat the connection as opaque.
        case notTLS
        case clientHello(serverName: String?, alpn: [String])
    }

    /// A ClientHello is a few hundred bytes; the limit keeps a hostile client from making the proxy buffer more.
    public static let maximumSize = 16 * 1024

    /// A ClientHello fits in one or two records; a client that splits it finer is not read further (its bytes
    /// stay TLS whose name is unknown, which fails closed).
    static let maximumRecords = 64

    public static func parse(_ bytes: [UInt8]) -> Result {
        // Records: type 22 (handshake), version 3.x, length; their fragments concatenate into the handshake stream.
        var handshake: [UInt8] = []
        var offset = 0
        for _ in 0..<maximumRecords {
            guard offset < bytes.count else { return .needMoreData(atLeast: offset + 5) }
            guard bytes[offset] == 22 else { return .notTLS }
            guard offset + 5 <= bytes.count else {
                guard offset + 1 < bytes.count else { return .needMoreData(atLeast: offset + 2) }
                return bytes[offset + 1] != 3 ? .notTLS : .needMoreData(atLeast: offset + 5)
            }
            guard bytes[offset + 1] == 3 else { return .notTLS }
            let length = Int(bytes[offset + 3]) << 8 | Int(bytes[offset + 4])
            guard length > 0, length <= 16_384 + 2048 else { return .notTLS }
            let end = offset + 5 + length
            handshake += bytes[(offset + 5)..<min(end, bytes.count)]
            if handshake.count >= 4 {
                guard handshake[0] == 1 else { return .notTLS }
                let bodyLength = Int(handshake[1]) << 16 | Int(handshake[2]) << 8 | Int(handshake[3])
                guard bodyLength <= maximumSize else { return .notTLS }
                if handshake.count >= 4 + bodyLength {
                    return parseBody(handshake[4..<(4 + bodyLength)])
                }
            }
            guard end <= bytes.count else { return .needMoreData(atLeast: end) }
            offset = end
        }
        return .notTLS
    }

    /// The ClientHello body: version, random, session id, cipher suites, compression methods, extensions.
    private static func parseBody(_ body: ArraySlice<UInt8>) -> Result {
        var reader = ByteReader(body)
        guard reader.skip(2 + 32), reader.skipVector(lengthBytes: 1), reader.skipVector(lengthBytes: 2),
            reader.skipVector(lengthBytes: 1)
        else { return .notTLS }
        guard !reader.isAtEnd else { return .clientHello(serverName: nil, alpn: []) }
        guard var extensions = reader.vector(lengthBytes: 2), reader.isAtEnd else { return .notTLS }
        var serverName: String?
        var alpn: [String] = []
        while !extensions.isAtEnd {
            guard let type = extensions.integer(bytes: 2), var data = extensions.vector(lengthBytes: 2) else {
                return .notTLS
            }
            switch type {
            case 0:  // server_name: a list of (type, name); type 0 is a DNS host name, at most one (RFC 6066 §3)
                guard var names = data.vector(lengthBytes: 2) else { return .notTLS }
                while !names.isAtEnd {
                    guard let nameType = names.integer(bytes: 1), let name = names.vector(lengthBytes: 2) else {
                        return .notTLS
                    }
                    if nameType == 0 {
                        guard serverName == nil, let text = name.text, !text.isEmpty else { return .notTLS }
                        serverName = text
                    }
                }
            case 16:  // application_layer_protocol_negotiation: a list of length-prefixed names
                guard var protocols = data.vector(lengthBytes: 2) else { return .notTLS }
                while !protocols.isAtEnd {
                    // Protocol ids are arbitrary bytes (RFC 7301); unprintable ones are kept, escaped.
                    guard let name = protocols.vector(lengthBytes: 1) else { return .notTLS }
                    alpn.append(name.escapedText)
                }
            default:
                break
            }
        }
        return .clientHello(serverName: serverName, alpn: alpn)
    }
}
