extension Duration {
    /// The duration in seconds, fractions included, for rate and latency arithmetic.
    public var inSeconds: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }
}
