#if canImport(Glibc)
    import Glibc
#endif

/// Entering another network namespace, as `--netns PATH` asks (a pod's `/proc/PID/ns/net` or `/run/netns/NAME`).
public enum NetworkNamespace {
    /// Moves the calling thread into the namespace. Threads started afterwards inherit it, so call this before
    /// any event loop or netlink socket exists.
    public static func enter(path: String) throws(CommandFailure) {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else {
            let reason = String(cString: strerror(errno))
            throw .badInput("cannot open network namespace '\(path)': \(reason)")
        }
        defer { close(descriptor) }
        guard setns(descriptor, cloneNewNet) == 0 else {
            let code = errno
            let reason = String(cString: strerror(code))
            throw CommandFailure(
                code == EINVAL ? .badInput : .failure, "cannot enter network namespace '\(path)': \(reason)")
        }
    }

    /// `CLONE_NEWNET` from <sched.h>.
    private static let cloneNewNet: Int32 = 0x4000_0000

    /// glibc's `setns(2)` wrapper. <sched.h> declares it only under `_GNU_SOURCE`, which Swift's Glibc module is
    /// not built with, so it is looked up by name (RTLD_DEFAULT is a null handle).
    private static let setns: @convention(c) (Int32, Int32) -> Int32 = {
        guard let symbol = dlsym(nil, "setns") else { fatalError("glibc provides no setns") }
        return unsafeBitCast(symbol, to: (@convention(c) (Int32, Int32) -> Int32).self)
    }()
}
