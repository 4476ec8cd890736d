import Foundation

/// A new access log file the proxy (uid 1337) writes to, in the tests' folder: its lines read back as JSON.
struct AccessLogFile {
    let path = "\(Binaries.directory)/access-\(UUID().uuidString).log"

    init() throws {
        try Data().write(to: URL(fileURLWithPath: path))
        try FileManager.default.setAttributes([.posixPermissions: 0o666], ofItemAtPath: path)
    }

    /// The log's lines, read again until `complete` holds (lines are written off the event loops, a moment after the
    /// connection or request ends) or five seconds pass.
    func entries(until complete: ([[String: Any]]) -> Bool) throws -> [[String: Any]] {
        var entries: [[String: Any]] = []
        for _ in 0..<50 {
            entries = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map {
                try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any]
            }
            if complete(entries) { break }
            usleep(100_000)
        }
        return entries
    }
}
