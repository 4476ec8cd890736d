import Foundation
import Synchronization

/// Writes access log entries as JSON lines to standard output or a file. Lines are whole: writes are serialized, so
/// entries from different event loops never interleave.
public final class AccessLog: Sendable {
    private let output: Mutex<FileHandle>
    private let encoder: JSONEncoder

    /// Standard output.
    public convenience init() {
        self.init(handle: FileHandle.standardOutput)
    }

    /// Appends to `path`, creating it (0644) if need be.
    public convenience init(path: String) throws {
        if !FileManager.default.fileExists(atPath: path) {
            guard FileManager.default.createFile(atPath: path, contents: nil, attributes: [.posixPermissions: 0o644])
            else { throw CocoaError(.fileWriteNoPermission, userInfo: [NSFilePathErrorKey: path]) }
        }
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        try handle.seekToEnd()
        self.init(handle: handle)
    }

    private init(handle: FileHandle) {
        output = Mutex(handle)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        self.encoder = encoder
    }

    public func write(_ entry: AccessLogEntry) {
        guard var line = try? encoder.encode(entry) else { return }
        line.append(UInt8(ascii: "\n"))
        output.withLock { try? $0.write(contentsOf: line) }
    }

    /// `2026-11-27T19:22:10.123Z`.
    public static func timestamp(_ date: Date) -> String {
        date.formatted(
            .iso8601.year().month().day().time(includingFractionalSeconds: true).timeZone(separator: .omitted))
    }
}
