import Foundation
import ServiceLifecycle

/// Writes access log entries as JSON lines to standard output or a file, off the event loops: `write` only queues
/// a line, and the service's own task writes them, so a slow reader of the log (a full pipe) never stalls traffic.
/// At most `queueLimit` lines wait; beyond that a line is dropped and counted rather than held. Run it as a service
/// listed before the proxy, so it stops after the proxy and writes the last connections' lines.
public final class AccessLog: Service, Sendable {
    private let output: FileHandle
    private let encoder: JSONEncoder
    private let lines: AsyncStream<Data>
    private let queue: AsyncStream<Data>.Continuation
    /// Told of every line the output refused (a full disk, a closed pipe): counted, not lost without a trace.
    private let writeFailed: @Sendable () -> Void

    /// Lines waiting to be written, at most.
    public static let queueLimit = 10_000

    /// Standard output.
    public convenience init(writeFailed: @escaping @Sendable () -> Void = {}) {
        self.init(handle: FileHandle.standardOutput, writeFailed: writeFailed)
    }

    /// Appends to `path`, creating it (0644) if need be.
    public convenience init(path: String, writeFailed: @escaping @Sendable () -> Void = {}) throws {
        if !FileManager.default.fileExists(atPath: path) {
            guard FileManager.default.createFile(atPath: path, contents: nil, attributes: [.posixPermissions: 0o644])
            else { throw CocoaError(.fileWriteNoPermission, userInfo: [NSFilePathErrorKey: path]) }
        }
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        try handle.seekToEnd()
        self.init(handle: handle, writeFailed: writeFailed)
    }

    private init(handle: FileHandle, writeFailed: @escaping @Sendable () -> Void) {
        output = handle
        self.writeFailed = writeFailed
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        self.encoder = encoder
        (lines, queue) = AsyncStream.makeStream(of: Data.self, bufferingPolicy: .bufferingOldest(Self.queueLimit))
    }

    /// Queues the entry's line; false when the queue is full (or the log has stopped) and the line was dropped.
    @discardableResult
    public func write(_ entry: AccessLogEntry) -> Bool {
        guard var line = try? encoder.encode(entry) else { return false }
        line.append(UInt8(ascii: "\n"))
        if case .enqueued = queue.yield(line) { return true }
        return false
    }

    /// Writes queued lines until graceful shutdown, then the ones still queued.
    public func run() async {
        await withGracefulShutdownHandler {
            for await line in lines {
                do {
                    try output.write(contentsOf: line)
                } catch {
                    writeFailed()
                }
            }
        } onGracefulShutdown: {
            self.queue.finish()
        }
    }
}
