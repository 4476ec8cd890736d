#if canImport(Glibc)
    import Glibc
#endif

/// The proxy holds two descriptors per proxied connection, so the usual soft limit of 1024 would cap it near 500
/// connections while the hard limit allows far more. At start the soft limit is raised to the hard one, as the Go
/// runtime does for every program.
enum FileDescriptorLimit {
    /// Returns the soft limit before and after.
    static func raiseToHardLimit() -> (before: UInt64, after: UInt64) {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return (0, 0) }
        let before = UInt64(limit.rlim_cur)
        guard limit.rlim_cur < limit.rlim_max else { return (before, before) }
        limit.rlim_cur = limit.rlim_max
        guard setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return (before, before) }
        return (before, UInt64(limit.rlim_cur))
    }
}
