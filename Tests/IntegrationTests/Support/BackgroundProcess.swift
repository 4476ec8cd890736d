import Foundation

/// A long-running helper (the proxy, a test server) whose output goes to a file, stopped when the test ends.
final class BackgroundProcess: @unchecked Sendable {
    private let process = Process()
    private let logURL: URL
    private let input = Pipe()
    let name: String

    /// Standard input stays open until `closeInput()`, so a test can hold the process at a point and release it.
    init(name: String, _ arguments: [String]) throws {
        self.name = name
        logURL = FileManager.default.temporaryDirectory.appendingPathComponent(
            "sidecar-\(name)-\(UUID().uuidString).log")
        guard FileManager.default.createFile(atPath: logURL.path, contents: nil) else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: logURL.path])
        }
        let log = try FileHandle(forWritingTo: logURL)
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        process.standardOutput = log
        process.standardError = log
        process.standardInput = input
        try process.run()
    }

    deinit {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        try? FileManager.default.removeItem(at: logURL)
    }

    var output: String { (try? String(contentsOf: logURL, encoding: .utf8)) ?? "" }

    var isRunning: Bool { process.isRunning }

    /// The program's own process id: every wrapper on the command line (`ip netns exec`, `setpriv`, `env`,
    /// `prlimit`) executes the next in its place.
    var processID: Int32 { process.processIdentifier }

    /// Waits for a signal the process prints itself (e.g. `READY`), failing fast if it exits first.
    func waitForOutput(_ text: String, timeout: Duration = .seconds(10)) throws {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if output.contains(text) { return }
            guard process.isRunning else { throw ProcessEnded(name: name, output: output) }
            Thread.sleep(forTimeInterval: 0.02)
        }
        throw ProcessEnded(name: "\(name) (no '\(text)' within \(timeout))", output: output)
    }

    /// Writes a line to the process's standard input.
    func send(line: String) {
        try? input.fileHandleForWriting.write(contentsOf: Data((line + "\n").utf8))
    }

    func closeInput() {
        try? input.fileHandleForWriting.close()
    }

    func signal(_ signal: Int32) {
        if process.isRunning { kill(process.processIdentifier, signal) }
    }

    /// The exit status, or nil if the process still runs after `timeout`.
    func waitForExit(timeout: Duration) -> Int32? {
        let deadline = ContinuousClock.now + timeout
        while process.isRunning && ContinuousClock.now < deadline { Thread.sleep(forTimeInterval: 0.02) }
        if process.isRunning { return nil }
        process.waitUntilExit()
        return process.terminationStatus
    }

    /// Sends a signal and waits for the process to exit, killing it if it will not; returns its exit status.
    @discardableResult
    func stop(signal: Int32 = SIGTERM, timeout: Duration = .seconds(10)) -> Int32 {
        self.signal(signal)
        if let status = waitForExit(timeout: timeout) { return status }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        return process.terminationStatus
    }

    struct ProcessEnded: Error, CustomStringConvertible {
        var name: String
        var output: String
        var description: String { "\(name) is not running; its output:\n\(output)" }
    }
}
