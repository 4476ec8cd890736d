/// Decides what a connection speaks from its first bytes, as they arrive: TLS, HTTP/2, HTTP/1.x or opaque.
/// `nil` means "wait for more" (the caller's detect timeout decides opaque if nothing more comes).
public enum ProtocolDetector {
    public static func detect(_ bytes: [UInt8]) -> DetectedProtocol? {
        guard let first = bytes.first else { return nil }
        if first == 22 {
            switch ClientHelloParser.parse(bytes) {
            case .needMoreData: return nil
            case .notTLS: return .opaque
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
}
