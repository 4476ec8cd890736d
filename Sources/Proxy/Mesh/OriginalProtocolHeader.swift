/// The header of ours that marks a request carried between sidecars as a stream of a shared HTTP/2 connection with
/// the protocol the app spoke, so the terminating sidecar gives the app what it sent. It never reaches an app: the
/// originating sidecar removes a client's own copy, the terminating one removes ours.
enum OriginalProtocolHeader {
    static let name = "x-sidecar-orig-proto"
    static let http11 = "HTTP/1.1"
}
