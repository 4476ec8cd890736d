/// Decides what a connection speaks from its first bytes, as they arrive: TLS, HTTP/2, HTTP/1.x or opaque.
///
/// Resumable: fed everything the connection has sent so far on each call, it reads only what was added (a ClientHello
/// is parsed again only once the record it waits for is complete), so input a byte at a time costs linear work.
public struct ProtocolDetector: Sendable {
    private var http = HTTPPrefaceSniffer()
    /// How many bytes the ClientHello parser waits for before it is worth running again.
    private var tlsNeeds = 0

    public init() {}

    /// What the bytes are, or nil while they could still become more than one thing.
    /// - Parameter bytes: everything the connection has sent so far; each call's bytes begin with the last call's.
    public mutating func detect<Bytes: RandomAccessCollection<UInt8>>(_ bytes: Bytes) -> DetectedProtocol?
    where Bytes.Index == Int {
        guard let first = bytes.first else { return nil }
        if first == 22 {
            guard bytes.count >= tlsNeeds else { return nil }
            switch ClientHelloParser.parse(Array(bytes)) {
            case .needMoreData(let atLeast):
                tlsNeeds = atLeast
                return nil
            case .notTLS: return Self.startsLikeTLS(bytes) ? .tls(serverName: nil, alpn: []) : .opaque
            case .clientHello(let serverName, let alpn): return .tls(serverName: serverName, alpn: alpn)
            }
        }
        switch http.sniff(bytes) {
        case .needMoreData: return nil
        case .http1: return .http1
        case .http2: return .http2
        case .notHTTP: return .opaque
        }
    }

    /// What the bytes are when the detect timeout ends the wait, failing closed: nothing at all is `silent`; a TLS
    /// record begun but not finished is TLS whose server name is unknown (SNI rules then fail closed); anything else
    /// still unfinished could yet be an HTTP request, so it is `undecided` (HTTP deny rules apply to it).
    public mutating func detectAtTimeout<Bytes: RandomAccessCollection<UInt8>>(_ bytes: Bytes) -> DetectedProtocol
    where Bytes.Index == Int {
        if let detected = detect(bytes) { return detected }
        if bytes.isEmpty { return .silent }
        return bytes.first == 22 ? .tls(serverName: nil, alpn: []) : .undecided
    }

    /// A TLS handshake record header: content type 22, major version 3.
    private static func startsLikeTLS<Bytes: RandomAccessCollection<UInt8>>(_ bytes: Bytes) -> Bool
    where Bytes.Index == Int {
        bytes.count >= 2 && bytes[bytes.startIndex] == 22 && bytes[bytes.startIndex + 1] == 3
    }
}
