import Foundation

/// Runs the test peer's client side (`peer.py call` / `probe`) and decodes what it reports.
enum PeerClient {
    struct Hello: Decodable, Equatable {
        var local: String
        var localPort: Int
        var peer: String
        var peerPort: Int
    }

    struct ServerReport: Decodable {
        var received: Int
        var sha256: String
    }

    struct CallResult: Decodable {
        var hello: Hello
        var sent: Int
        var sentSha256: String
        var server: ServerReport
        var received: Int
        var receivedSha256: String
        var expectedSha256: String
    }

    struct CallError: Decodable, Error {
        var error: String
        var detail: String
        var elapsed: Double
    }

    struct ProbeResult: Decodable {
        var outcome: String
        var elapsed: Double
    }

    /// Uploads `send` bytes, half-closes, and downloads `expect` bytes; throws `CallError` when the peer could not.
    /// `eager` sends before reading the server's greeting, as clients that speak first do.
    static func call(
        _ command: [String], host: String, port: Int, send: Int = 1000, expect: Int = 1000, eager: Bool = false
    ) throws -> CallResult {
        let result = try Shell.run(
            command + [
                "/usr/bin/python3", "-B", Binaries.peer, "call", host, "\(port)", "--send", "\(send)", "--expect",
                "\(expect)",
            ] + (eager ? ["--eager"] : []),
            expectSuccess: false)
        let data = Data(result.stdout.utf8)
        if result.status == 3 { throw try JSONDecoder().decode(CallError.self, from: data) }
        guard result.status == 0 else { throw CommandFailed(arguments: command, result: result) }
        return try JSONDecoder().decode(CallResult.self, from: data)
    }

    static func probe(_ command: [String], host: String, port: Int) throws -> ProbeResult {
        let result = try Shell.run(command + ["/usr/bin/python3", "-B", Binaries.peer, "probe", host, "\(port)"])
        return try JSONDecoder().decode(ProbeResult.self, from: Data(result.stdout.utf8))
    }

    /// Sends one UDP datagram; returns the name of the server that answered, or nil when none did.
    static func udpCall(_ command: [String], host: String, port: Int) throws -> String? {
        let result = try Shell.run(command + ["/usr/bin/python3", "-B", Binaries.peer, "udp-call", host, "\(port)"])
        let json = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: String]
        return json?["reply"]
    }

    /// True when a full exchange with the server succeeded; false when the connection failed.
    static func reaches(_ command: [String], host: String, port: Int) throws -> Bool {
        do {
            _ = try call(command, host: host, port: port)
            return true
        } catch is CallError {
            return false
        }
    }
}
