import Foundation

/// When a connection, request or query started, kept as a `Date` and written as RFC 3339 text (UTC, milliseconds)
/// only when the line is encoded: on the access log's own task, or for `/connections`, never on the event loop that
/// closed the connection (and not at all with the access log off).
public struct AccessLogTime: Sendable, Codable, Equatable {
    public let date: Date

    public init(_ date: Date) {
        self.date = date
    }

    /// `2026-11-27T19:22:10.123Z`.
    public var text: String {
        date.formatted(
            .iso8601.year().month().day().time(includingFractionalSeconds: true).timeZone(separator: .omitted))
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(text)
    }

    public init(from decoder: Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        date = try Date.ISO8601FormatStyle(includingFractionalSeconds: true).parse(text)
    }
}
