import Foundation
import Testing

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

    /// Releases a call `PodTopology.startHeldCall` holds, and returns its report once it has ended.
    static func finishHeldCall(_ held: BackgroundProcess, timeout: Duration = .seconds(30)) throws -> CallResult {
        held.closeInput()
        #expect(held.waitForExit(timeout: timeout) == 0, "\(held.output)")
        let report = try #require(held.output.split(separator: "\n").last)
        return try JSONDecoder().decode(CallResult.self, from: Data(report.utf8))
    }

    /// Uploads `send` bytes, half-closes, and downloads `expect` bytes; throws `CallError` when the peer could not.
    /// `eager` sends before reading the server's greeting, as clients that speak first do; `pause` waits that many
    /// seconds between the request line and the rest.
    static func call(
        _ command: [String], host: String, port: Int, send: Int = 1000, expect: Int = 1000, eager: Bool = false,
        pause: Double = 0
    ) throws -> CallResult {
        let result = try Shell.run(
            command + [
                "/usr/bin/python3", "-B", Binaries.peer, "call", host, "\(port)", "--send", "\(send)", "--expect",
                "\(expect)", "--pause", "\(pause)",
            ] + (eager ? ["--eager"] : []),
            expectSuccess: false)
        let data = Data(result.stdout.utf8)
        if result.status == 3 { throw try JSONDecoder().decode(CallError.self, from: data) }
        guard result.status == 0 else { throw CommandFailed(arguments: command, result: result) }
        return try JSONDecoder().decode(CallResult.self, from: data)
    }

    /// The first thing that happens on a new connection: data, an orderly end, a reset. `halfClose` sends a FIN first.
    static func probe(
        _ command: [String], host: String, port: Int, halfClose: Bool = false, timeout: Double = 5
    ) throws -> ProbeResult {
        let result = try Shell.run(
            command + ["/usr/bin/python3", "-B", Binaries.peer, "probe", host, "\(port)", "--timeout", "\(timeout)"]
                + (halfClose ? ["--half-close"] : []))
        return try JSONDecoder().decode(ProbeResult.self, from: Data(result.stdout.utf8))
    }

    /// Sends one UDP datagram; returns the name of the server that answered, or nil when none did.
    static func udpCall(_ command: [String], host: String, port: Int) throws -> String? {
        let result = try Shell.run(command + ["/usr/bin/python3", "-B", Binaries.peer, "udp-call", host, "\(port)"])
        let json = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: String]
        return json?["reply"]
    }

    struct PacedResult: Decodable {
        var received: String
        /// `closed` (an orderly end), `reset`, or `open` (still open at the timeout).
        var ended: String
    }

    /// Sends `parts` in order on one connection: `@SECONDS` pauses, anything else is text with backslash escapes,
    /// a byte at a time `bytewise` seconds apart when given. Returns what came back and how the connection ended.
    static func pacedSend(
        _ command: [String], host: String, port: Int, _ parts: [String], bytewise: Double? = nil, timeout: Double = 3
    ) throws -> PacedResult {
        let result = try Shell.run(
            command + [
                "/usr/bin/python3", "-B", Binaries.peer, "paced-send", host, "\(port)", "--timeout", "\(timeout)",
            ]
                + (bytewise.map { ["--bytewise", "\($0)"] } ?? []) + ["--"] + parts)
        return try JSONDecoder().decode(PacedResult.self, from: Data(result.stdout.utf8))
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

    /// What the HTTP echo server saw of a request.
    struct EchoedRequest: Decodable {
        var method: String
        var path: String
        var local: String
        var localPort: Int
        var peerPort: Int
        var bodyLength: Int
        var bodySha256: String?
        var headers: [String: String]
        /// A chunked body's trailers, names in lower case.
        var trailers: [String: String]?
    }

    /// One response of `http-requests`: the echo when the server answered, the proxy's text when it did.
    struct HTTPResponse: Decodable {
        var status: Int
        var echo: EchoedRequest?
        var text: String?
        var connection: String?
        var retryAfter: String?

        enum CodingKeys: String, CodingKey {
            case status, body, connection, retryAfter
        }

        init(from decoder: Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            status = try container.decode(Int.self, forKey: .status)
            connection = try container.decodeIfPresent(String.self, forKey: .connection)
            retryAfter = try container.decodeIfPresent(String.self, forKey: .retryAfter)
            echo = try? container.decode(EchoedRequest.self, forKey: .body)
            text = try? container.decode(String.self, forKey: .body)
        }
    }

    /// Sends `requests` ("METHOD PATH [BODYSIZE]") in turn on one keep-alive connection.
    static func httpRequests(_ command: [String], host: String, port: Int, _ requests: [String]) throws
        -> [HTTPResponse]
    {
        let result = try Shell.run(
            command + ["/usr/bin/python3", "-B", Binaries.peer, "http-requests", host, "\(port)"] + requests,
            expectSuccess: false)
        let data = Data(result.stdout.utf8)
        if result.status == 3 { throw try JSONDecoder().decode(CallError.self, from: data) }
        guard result.status == 0 else { throw CommandFailed(arguments: command, result: result) }
        return try JSONDecoder().decode([HTTPResponse].self, from: data)
    }

    struct RawExchange: Decodable {
        var received: String
        var closed: Bool

        /// The status code of the first response line, or nil when none came.
        var status: Int? {
            guard received.hasPrefix("HTTP/1.") else { return nil }
            return Int(received.split(separator: " ", maxSplits: 2).dropFirst().first ?? "")
        }
    }

    /// Sends `bytes` as they are and returns what came back before the server closed or went quiet.
    static func httpRaw(_ command: [String], host: String, port: Int, _ bytes: String) throws -> RawExchange {
        let result = try Shell.run(
            command + ["/usr/bin/python3", "-B", Binaries.peer, "http-raw", host, "\(port)"], stdin: bytes)
        return try JSONDecoder().decode(RawExchange.self, from: Data(result.stdout.utf8))
    }

    struct UpgradeResult: Decodable {
        var status: Int
        var echo: String
        /// With `hold`: seconds of silence until the tunnel was closed; nil when it was still open at the timeout.
        var closedAfter: Double?
    }

    /// Asks for `Upgrade: echo`, then sends raw bytes over the upgraded connection; with `hold`, then stays silent
    /// until the tunnel closes (or `timeout` passes).
    static func httpUpgrade(
        _ command: [String], host: String, port: Int, hold: Bool = false, timeout: Double = 5
    ) throws -> UpgradeResult {
        let result = try Shell.run(
            command + [
                "/usr/bin/python3", "-B", Binaries.peer, "http-upgrade", host, "\(port)", "--timeout", "\(timeout)",
            ] + (hold ? ["--hold"] : []))
        return try JSONDecoder().decode(UpgradeResult.self, from: Data(result.stdout.utf8))
    }
}
