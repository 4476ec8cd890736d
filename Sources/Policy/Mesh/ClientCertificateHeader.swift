import Identity

/// What becomes of `x-forwarded-client-cert` on a request the sidecar forwards, in Envoy's format, so an app behind
/// Envoy or Istio reads it the same way. Only the sidecar that terminated the caller's mutual TLS can vouch for it:
/// on an inbound request it proxies, every copy the client sent is removed, and ours set when the configuration asks
/// (which then has every inbound HTTP request proxied); outbound, the app's own header goes on untouched.
public enum ClientCertificateHeader: Sendable, Hashable {
    case untouched
    /// Every copy removed, and this value set when there is one.
    case replaced(with: String?)

    public static let name = "x-forwarded-client-cert"

    /// The one element a mesh caller gets: `By=` our identity, `Hash=` the hex SHA-256 of the caller's leaf
    /// certificate (DER), `URI=` the caller's identity. A SPIFFE ID holds none of `,;="`, so nothing is quoted.
    public static func element(by local: SPIFFEID, caller: SPIFFEID, certificateHash: String) -> String {
        "By=\(local);Hash=\(certificateHash);URI=\(caller)"
    }

    /// - Parameters:
    ///   - element: the caller's element, for a connection whose mutual TLS this sidecar terminated.
    ///   - forwarding: `mtls.forwardClientCert`.
    public static func forRequest(direction: TrafficDirection, element: String?, forwarding: Bool) -> Self {
        guard direction == .inbound else { return .untouched }
        return .replaced(with: forwarding ? element : nil)
    }
}
