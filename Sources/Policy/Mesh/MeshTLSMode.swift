/// What an inbound port accepts once the workload has an identity.
public enum MeshTLSMode: String, Sendable, Hashable, CaseIterable {
    /// No termination: mesh TLS is the app's own TLS to the proxy, passed through.
    case disable
    /// Mesh TLS is terminated; the app's own TLS passes through and plaintext is proxied as before (the default, so
    /// that a mesh can be rolled out pod by pod).
    case permissive
    /// Only mesh TLS, and the plaintext probes `mtls.probes` declares.
    case strict
}
