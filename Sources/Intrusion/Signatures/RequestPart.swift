/// Which part of a request a signature reads.
public enum RequestPart: String, Sendable, Hashable, CaseIterable {
    /// The request target (path and query), percent-decoded.
    case target
    /// Every header field's value (the user agent's too), percent-decoded.
    case headers
    /// The `User-Agent` field alone.
    case userAgent
    /// The first `inspectBodyBytes` of a form or JSON body, percent-decoded.
    case body
}
