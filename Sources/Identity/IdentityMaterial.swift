/// A workload identity as its files hold it: the certificate chain (leaf first), the private key and the trust
/// bundle, each PEM. Kept as read, since the TLS stack loads them too.
public struct IdentityMaterial: Equatable, Sendable {
    public let chain: String
    public let key: String
    public let bundle: String

    public init(chain: String, key: String, bundle: String) {
        self.chain = chain
        self.key = key
        self.bundle = bundle
    }
}
