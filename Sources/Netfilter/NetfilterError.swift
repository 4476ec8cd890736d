#if canImport(Glibc)
    import Glibc
#endif

/// A failure talking to the kernel's nftables subsystem: what was attempted and the errno the kernel answered.
public struct NetfilterError: Error, CustomStringConvertible, Sendable {
    /// What was being done, e.g. "add rule 3 to chain output".
    public let operation: String
    public let errno: Int32

    public init(operation: String, errno: Int32) {
        self.operation = operation
        self.errno = errno
    }

    public var description: String {
        "\(operation): \(String(cString: strerror(errno))) (errno \(errno))"
    }

    /// Runs a C call that reports failure with a negative return and `errno`, retrying on `EINTR`.
    static func check<Result: BinaryInteger>(_ operation: @autoclosure () -> String, _ call: () -> Result)
        throws(NetfilterError) -> Result
    {
        while true {
            let result = call()
            if result >= 0 { return result }
            let code = Glibc.errno
            if code != EINTR { throw NetfilterError(operation: operation(), errno: code) }
        }
    }
}
