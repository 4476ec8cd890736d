import NIOCore
import NIOHTTP1
import NIOHTTP2
import NIOSSL

#if canImport(Glibc)
    import Glibc
#endif

/// The word a connection's failure is counted under: a bounded set, so the metric's series stay few.
enum ConnectionFailureKind {
    static func of(_ error: any Error) -> String {
        switch error {
        case let error as IOError:
            switch error.errnoCode {
            case ECONNRESET: "reset"
            case EPIPE: "broken_pipe"
            case ETIMEDOUT: "timeout"
            case EHOSTUNREACH, ENETUNREACH: "unreachable"
            default: "io"
            }
        case is HTTPParserError: "http_parse"
        case is NIOHTTP2Error: "http2"
        case is NIOSSLError, is BoringSSLError: "tls"
        case is ChannelError: "channel"
        default: "other"
        }
    }
}
