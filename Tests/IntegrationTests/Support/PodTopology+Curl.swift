import Foundation

extension PodTopology {
    /// What curl, as the app, got for one request on a connection of its own that asks to close: the echoed request,
    /// and the response's `Connection` header.
    func curlClosing(host: String, port: Int, _ path: String, _ extra: [String] = [], stdin: String? = nil) throws
        -> (echo: PeerClient.EchoedRequest, connection: String?)
    {
        let result = try Shell.run(
            inPod(
                [
                    "curl", "-s", "-i", "--http1.1", "-m", "5", "-H", "Connection: close",
                    "http://\(host):\(port)\(path)",
                ] + extra), stdin: stdin)
        let parts = result.stdout.components(separatedBy: "\r\n\r\n")
        let echo = try JSONDecoder().decode(PeerClient.EchoedRequest.self, from: Data((parts.last ?? "").utf8))
        let connection = parts.first?.split(separator: "\r\n").first { $0.lowercased().hasPrefix("connection:") }
        return (echo, connection.map { String($0.dropFirst("connection:".count)).trimmingCharacters(in: .whitespaces) })
    }

    /// `count` clients in turn, each on a connection of its own that asks to close: the first uploads `body` to
    /// `upload` chunked, with `headers` (curl's `-H`), the others GET a path each.
    func closingClients(
        host: String, port: Int, count: Int, upload: String, body: String, headers: [String] = []
    ) throws -> [(echo: PeerClient.EchoedRequest, connection: String?)] {
        let chunked = ["-H", "Transfer-Encoding: chunked"] + headers.flatMap { ["-H", $0] } + ["--data-binary", "@-"]
        var answers = [try curlClosing(host: host, port: port, upload, chunked, stdin: body)]
        for index in 1..<count {
            answers.append(try curlClosing(host: host, port: port, "/get/\(index)"))
        }
        return answers
    }
}
