/// Where this workload's X.509-SVID files are: a directory in a preset layout, or three explicit paths.
public struct IdentitySource: Sendable, Hashable {
    /// The file names that issuers write into a directory.
    public enum Layout: String, Sendable, Hashable, CaseIterable {
        /// cert-manager's csi-driver-spiffe.
        case csiSPIFFE = "csi-spiffe"
        /// SPIRE's spiffe-helper.
        case spiffeHelper = "spiffe-helper"

        var names: (certificate: String, privateKey: String, trustBundle: String) {
            switch self {
            case .csiSPIFFE: ("tls.crt", "tls.key", "ca.crt")
            case .spiffeHelper: ("svid.pem", "svid_key.pem", "svid_bundle.pem")
            }
        }
    }

    /// The certificate chain, leaf first.
    public let certificate: String
    public let privateKey: String
    public let trustBundle: String

    public init(certificate: String, privateKey: String, trustBundle: String) {
        self.certificate = certificate
        self.privateKey = privateKey
        self.trustBundle = trustBundle
    }

    public init(directory: String, layout: Layout) {
        let folder = directory.hasSuffix("/") ? String(directory.dropLast()) : directory
        let names = layout.names
        self.init(
            certificate: "\(folder)/\(names.certificate)", privateKey: "\(folder)/\(names.privateKey)",
            trustBundle: "\(folder)/\(names.trustBundle)")
    }
}
