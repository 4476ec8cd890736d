/// An answer the proxy gives a request itself, in place of the upstream's: a denial, a refusal by a limit, an
/// upstream that cannot be reached or did not answer in time, a request it cannot read. Protocol-neutral: HTTP/1.1
/// and HTTP/2 each write it, as plain text naming the reason, or, to a gRPC caller, as a gRPC status.
public struct LocalAnswer: Sendable, Hashable {
    public let status: Int
    /// One line naming the reason (the rule, the limit), so whoever reads the client's logs learns what happened.
    public let text: String
    /// Whole seconds until a rate limit has a token again, for `Retry-After`.
    public var retryAfter: Int?

    public init(status: Int, text: String, retryAfter: Int? = nil) {
        self.status = status
        self.text = text
        self.retryAfter = retryAfter
    }

    public static func denied(_ decision: PolicyDecision) -> LocalAnswer {
        LocalAnswer(status: 403, text: "denied by sidecar policy: rule \(decision.ruleName)")
    }

    public static func unreachable(_ destination: String) -> LocalAnswer {
        LocalAnswer(status: 502, text: "upstream \(destination) unreachable")
    }

    public static let timedOut = LocalAnswer(status: 504, text: "upstream did not answer within the request timeout")

    /// The body of a plain-text answer.
    public var body: String { text + "\n" }

    /// What a gRPC caller reads the answer as (the codes Envoy's local replies give): a denial is PERMISSION_DENIED
    /// (7), a rate limit RESOURCE_EXHAUSTED (8), an unreachable upstream or an open circuit UNAVAILABLE (14), a
    /// request timeout DEADLINE_EXCEEDED (4), a request the proxy cannot read INTERNAL (13).
    public var grpcStatus: Int {
        switch status {
        case 403: 7
        case 429: 8
        case 502, 503: 14
        case 504: 4
        case 400, 414, 431: 13
        case 401: 16
        default: 2
        }
    }

    /// `grpc-message`: the text, percent-encoded as the gRPC protocol asks (bytes outside printable ASCII, and `%`).
    public var grpcMessage: String {
        var encoded = ""
        for byte in text.utf8 {
            if (0x20...0x7e).contains(byte) && byte != UInt8(ascii: "%") {
                encoded.append(Character(UnicodeScalar(byte)))
            } else {
                encoded += "%" + String(byte, radix: 16, uppercase: true).leftPadded(to: 2)
            }
        }
        return encoded
    }

    /// A request whose `content-type` says gRPC (`application/grpc`, `application/grpc+proto`, …) is answered as
    /// gRPC: its client reads a status and a message, not an HTTP error it cannot parse.
    public static func isGRPC(contentType: String?) -> Bool {
        guard let contentType = contentType?.lowercased() else { return false }
        return contentType == "application/grpc" || contentType.hasPrefix("application/grpc+")
            || contentType.hasPrefix("application/grpc;")
    }
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
