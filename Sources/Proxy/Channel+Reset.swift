import NIOCore

#if canImport(Glibc)
    import Glibc
#endif

extension Channel {
    /// Closes with a TCP RST instead of a FIN (`SO_LINGER` zero): the client learns at once that the connection
    /// failed, rather than seeing an orderly, empty response.
    func reset() {
        let linger = linger(l_onoff: 1, l_linger: 0)
        let close: @Sendable (Result<Void, Error>) -> Void = { _ in self.close(promise: nil) }
        if let provider = self as? SocketOptionProvider {
            provider.setSoLinger(linger).whenComplete(close)
        } else {
            close(.success(()))
        }
    }
}
