import Foundation

/// The `ids:` configuration: what each direction detects and how it answers, and how many sources may be blocked.
public struct IntrusionDetection: Sendable, Hashable {
    public var inbound: DirectionDetection?
    public var outbound: DirectionDetection?
    /// The most sources blocked at once, per direction; beyond it the oldest block is lifted first, so that an
    /// attacker showing many addresses cannot grow the table without bound.
    public var maxBlockedSources = 10_000

    public init() {}
}

/// One direction's detection.
public struct DirectionDetection: Sendable, Hashable {
    public var mode: DetectionMode = .detect
    public var scan: ScanDetection?
    public var denials: DenialDetection?
    public var signatures: SignatureDetection?

    public init(mode: DetectionMode = .detect) {
        self.mode = mode
    }
}

/// `detect` only alerts; `prevent` alerts and acts: a signature's request is answered 403 (or its connection reset)
/// and `action: block` blocks the source.
public enum DetectionMode: String, Sendable, Hashable, CaseIterable {
    case detect, prevent
}

/// What a detector does beyond alerting, in `prevent` mode.
public enum DetectionResponse: Sendable, Hashable {
    case alert
    /// The source's new connections are reset at accept for this long.
    case block(for: Duration)
}

/// A scan: one source reaching more than `distinctPorts` ports of one address, or more than `distinctAddresses`
/// addresses, within `window`. Every accepted connection counts, whatever became of it (a scan is mostly refusals).
public struct ScanDetection: Sendable, Hashable {
    public var distinctPorts: Int?
    public var distinctAddresses: Int?
    public var window: Duration
    public var response: DetectionResponse

    public init(distinctPorts: Int?, distinctAddresses: Int?, window: Duration, response: DetectionResponse) {
        self.distinctPorts = distinctPorts
        self.distinctAddresses = distinctAddresses
        self.window = window
        self.response = response
    }
}

/// A burst of denials: one source meeting `count` policy denials (connections or requests) within `window`.
public struct DenialDetection: Sendable, Hashable {
    public var count: Int
    public var window: Duration
    public var response: DetectionResponse

    public init(count: Int, window: Duration, response: DetectionResponse) {
        self.count = count
        self.window = window
        self.response = response
    }
}

/// Request signatures: the sets and custom signatures in force, compiled once.
public struct SignatureDetection: Sendable, Hashable {
    public let sets: [SignatureSet]
    public let custom: [Signature]
    public let inspector: SignatureInspector
    /// How much of a form or JSON body is read before the request is decided (0: bodies are not read). The request
    /// is held until then.
    public let inspectBodyBytes: Int
    public let response: DetectionResponse

    public init(sets: [SignatureSet], custom: [Signature], inspectBodyBytes: Int = 0, response: DetectionResponse) {
        self.sets = sets
        self.custom = custom
        self.inspectBodyBytes = inspectBodyBytes
        self.response = response
        inspector = SignatureInspector(sets.flatMap(\.signatures) + custom)
    }

    /// How much of a body with this `Content-Type` is read before its request is decided: form and JSON bodies
    /// (`application/x-www-form-urlencoded`, `multipart/form-data`, `application/json`, `*/*+json`), when bodies
    /// are read at all. Nil: the request is decided on its head.
    public func bodyBytesToInspect(contentType: String?) -> Int? {
        guard inspectBodyBytes > 0, let contentType else { return nil }
        let mediaType = contentType.split(separator: ";", maxSplits: 1).first.map {
            $0.trimmingCharacters(in: .whitespaces).lowercased()
        }
        guard let mediaType,
            Self.bodyMediaTypes.contains(mediaType) || mediaType.hasSuffix("+json")
        else { return nil }
        return inspectBodyBytes
    }

    private static let bodyMediaTypes: Set<String> = [
        "application/x-www-form-urlencoded", "multipart/form-data", "application/json", "text/json",
    ]
}
