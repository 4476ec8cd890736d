/// Decides what a connection speaks from its first bytes, as they arrive: TLS, HTTP/2, HTTP/1.x or opaque.
/// `nil` means "wait for more" (the caller's detect timeout decides opaque if nothing more comes).
public enum ProtocolDetector {
    public static func detect(_ bytes: [UInt8]) -> DetectedProtocol? {
        guard let first = bytes.first else { return nil }
        if first == 22 {
            switch ClientHelloParser.parse(bytes) {
            case .needMoreData: return nil
            case .notTLS: return startsLikeTLS(bytes) ? .tls(serverName: nil, alpn: []) : .opaque
            case .clientHello(let serverName, let alpn): return .tls(serverName: serverName, alpn: alpn)
            }
        }
        switch HTTPPrefaceSniffer.sniff(bytes) {
        case .needMoreData: return nil
        case .http1: return .http1
        case .http2: return .http2
        case .notHTTP: return .opaque
        }
    }

    /// What the bytes are when the detect timeout ends the wait: a TLS record begun but not finished is TLS whose
    /// server name is unknown (so SNI rules fail closed); anything else is opaque.
    public static func detectAtTimeout(_ bytes: [UInt8]) -> DetectedProtocol {
        if let detected = detect(bytes) { return detected }
        return startsLikeTLS(bytes) ? .tls(serverName: nil, alpn: []) : .opaque
    }

    /// A TLS handshake record header: content type 22, major version 3.
    private static func startsLikeTLS(_ bytes: [UInt8]) -> Bool {
        bytes.count >= 2 && bytes[0] == 22 && bytes[1] == 3
    }
}
