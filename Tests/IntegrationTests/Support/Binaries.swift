import Foundation

/// The project's binaries and the test peer, copied once into a world-readable folder: the proxy runs as uid 1337
/// and the app as another uid, and neither can read root's home, where the checkout may live.
enum Binaries {
    static let directory: String = {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent()
        let built =
            ProcessInfo.processInfo.environment["SIDECAR_BIN_DIR"] ?? root.appendingPathComponent(".build/debug").path
        let target = FileManager.default.temporaryDirectory.appendingPathComponent("sidecar-bin-\(getpid())")
        try! FileManager.default.createDirectory(at: target, withIntermediateDirectories: true)
        let sources =
            ["sidecar-init", "sidecar-proxy", "sidecar-status", "sidecar-inject"].map { "\(built)/\($0)" }
            + [root.appendingPathComponent("Tests/IntegrationTests/Peers/peer.py").path]
        for source in sources {
            guard FileManager.default.isExecutableFile(atPath: source) || source.hasSuffix(".py") else {
                fatalError("\(source) is missing: build first (`swift build --build-tests`, as scripts/test does)")
            }
            let destination = target.appendingPathComponent(URL(fileURLWithPath: source).lastPathComponent)
            try? FileManager.default.removeItem(at: destination)
            try! FileManager.default.copyItem(atPath: source, toPath: destination.path)
            try! FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: destination.path)
        }
        try! FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: target.path)
        atexit { try? FileManager.default.removeItem(atPath: Binaries.directory) }
        return target.path
    }()

    static var sidecarInit: String { "\(directory)/sidecar-init" }
    static var sidecarProxy: String { "\(directory)/sidecar-proxy" }
    static var sidecarStatus: String { "\(directory)/sidecar-status" }
    static var sidecarInject: String { "\(directory)/sidecar-inject" }
    static var peer: String { "\(directory)/peer.py" }
}
