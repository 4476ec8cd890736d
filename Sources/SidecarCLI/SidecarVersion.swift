/// The release the three programs belong to, reported by `--version` and the admin API's `/stats`.
public enum SidecarVersion {
    public static let current = "0.4.0"
}
