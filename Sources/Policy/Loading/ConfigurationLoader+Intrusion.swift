import Intrusion
import Yams

extension ConfigurationLoader {
    /// `ids:`: each direction's detection, and the bound on blocked sources.
    static func readIntrusionDetection(_ node: Node, _ reader: inout NodeReader) -> IntrusionDetection? {
        guard let fields = reader.mapping(node, at: "ids", keys: ["inbound", "outbound", "maxBlockedSources"]) else {
            return nil
        }
        var detection = IntrusionDetection()
        if let node = fields["inbound"] { detection.inbound = readDirectionDetection(node, at: "ids.inbound", &reader) }
        if let node = fields["outbound"] {
            detection.outbound = readDirectionDetection(node, at: "ids.outbound", &reader)
        }
        if let node = fields["maxBlockedSources"],
            let bound = reader.wholeNumber(node, at: "ids.maxBlockedSources", in: 1...1_000_000)
        {
            detection.maxBlockedSources = bound
        }
        return detection
    }

    private static func readDirectionDetection(_ node: Node, at path: String, _ reader: inout NodeReader)
        -> DirectionDetection?
    {
        let keys = ["mode", "scan", "denials", "signatures"]
        guard let fields = reader.mapping(node, at: path, keys: keys) else { return nil }
        var detection = DirectionDetection()
        if let node = fields["mode"] {
            detection.mode =
                reader.parse(node, at: "\(path).mode") { text in
                    guard let mode = DetectionMode(rawValue: text) else {
                        throw NodeReader.Invalid("'\(text)' is not detect or prevent")
                    }
                    return mode
                } ?? detection.mode
        }
        if let node = fields["scan"] { detection.scan = readScan(node, at: "\(path).scan", &reader) }
        if let node = fields["denials"] { detection.denials = readDenials(node, at: "\(path).denials", &reader) }
        if let node = fields["signatures"] {
            detection.signatures = readSignatures(node, at: "\(path).signatures", &reader)
        }
        if detection.scan == nil, detection.denials == nil, detection.signatures == nil, reader.problems.isEmpty {
            reader.problem(path, "names no detector (scan, denials, signatures): leave the direction out instead")
        }
        return detection
    }

    private static func readScan(_ node: Node, at path: String, _ reader: inout NodeReader) -> ScanDetection? {
        let keys = ["distinctPorts", "distinctAddresses", "window", "action", "blockFor"]
        guard let fields = reader.mapping(node, at: path, keys: keys) else { return nil }
        let ports = fields["distinctPorts"].flatMap {
            reader.wholeNumber($0, at: "\(path).distinctPorts", in: 2...Self.largestScanBound)
        }
        let addresses = fields["distinctAddresses"].flatMap {
            reader.wholeNumber($0, at: "\(path).distinctAddresses", in: 2...Self.largestScanBound)
        }
        let bothMissing = fields["distinctPorts"] == nil && fields["distinctAddresses"] == nil
        return ScanDetection(
            distinctPorts: bothMissing ? Self.defaultScanPorts : ports, distinctAddresses: addresses,
            window: window(fields, at: path, &reader), response: response(fields, at: path, &reader))
    }

    private static func readDenials(_ node: Node, at path: String, _ reader: inout NodeReader) -> DenialDetection? {
        guard let fields = reader.mapping(node, at: path, keys: ["count", "window", "action", "blockFor"]) else {
            return nil
        }
        let count = fields["count"].flatMap { reader.wholeNumber($0, at: "\(path).count", in: 1...100_000) }
        return DenialDetection(
            count: count ?? Self.defaultDenialCount, window: window(fields, at: path, &reader),
            response: response(fields, at: path, &reader))
    }

    private static func readSignatures(_ node: Node, at path: String, _ reader: inout NodeReader)
        -> SignatureDetection?
    {
        let keys = ["sets", "custom", "inspectBodyBytes", "action", "blockFor"]
        guard let fields = reader.mapping(node, at: path, keys: keys) else { return nil }
        var sets = SignatureSet.allCases
        if let node = fields["sets"] {
            let names = reader.values(node, at: "\(path).sets") { text in
                guard text == "all" || SignatureSet(rawValue: text) != nil else {
                    let known = (["all"] + SignatureSet.allCases.map(\.rawValue)).joined(separator: ", ")
                    throw NodeReader.Invalid("'\(text)' is not a signature set (\(known))")
                }
                return text
            }
            sets =
                names.contains("all")
                ? SignatureSet.allCases : SignatureSet.allCases.filter { names.contains($0.rawValue) }
        }
        let inspectBodyBytes = fields["inspectBodyBytes"].flatMap {
            reader.wholeNumber($0, at: "\(path).inspectBodyBytes", in: 0...Self.largestBodyInspection)
        }
        let custom = fields["custom"].map { node in
            reader.list(node, at: "\(path).custom").compactMap { item, itemPath in
                readCustomSignature(item, at: itemPath, &reader)
            }
        }
        var seen = Set(SignatureSet.allCases.flatMap(\.signatures).map(\.id))
        for (index, signature) in (custom ?? []).enumerated() where !seen.insert(signature.id).inserted {
            reader.problem("\(path).custom[\(index)].id", "'\(signature.id)' names another signature too")
        }
        if fields["sets"] != nil, sets.isEmpty, custom?.isEmpty ?? true {
            reader.problem(path, "no signature is left to run")
        }
        return SignatureDetection(
            sets: sets, custom: custom ?? [], inspectBodyBytes: inspectBodyBytes ?? 0,
            response: response(fields, at: path, &reader))
    }

    /// `custom[i]`: `id`, `pattern`, and optionally `name`, `severity` (medium) and `in` (target and headers).
    private static func readCustomSignature(_ node: Node, at path: String, _ reader: inout NodeReader)
        -> Signature?
    {
        guard let fields = reader.mapping(node, at: path, keys: ["id", "name", "severity", "pattern", "in"]) else {
            return nil
        }
        for key in ["id", "pattern"] where fields[key] == nil { reader.problem(path, "a signature needs \(key)") }
        let id = fields["id"].flatMap { node in
            reader.parse(node, at: "\(path).id") { text in
                guard (1...64).contains(text.count),
                    text.allSatisfy({ $0.isASCII && ($0.isLowercase || $0.isNumber || "-_.".contains($0)) })
                else {
                    throw NodeReader.Invalid(
                        "'\(text)' is not 1 to 64 of a-z, 0-9, '-', '_', '.' (alerts and metrics name it)")
                }
                return text
            }
        }
        let pattern = fields["pattern"].flatMap { node in
            reader.parse(node, at: "\(path).pattern") { text in try Pattern(text) }
        }
        let severity =
            fields["severity"].flatMap { node in
                reader.parse(node, at: "\(path).severity") { text in
                    guard let severity = Severity(rawValue: text) else {
                        throw NodeReader.Invalid(
                            "'\(text)' is not one of \(Severity.allCases.map(\.rawValue).joined(separator: ", "))")
                    }
                    return severity
                }
            } ?? .medium
        let parts = reader.values(fields["in"], at: "\(path).in") { text in
            guard let part = RequestPart(rawValue: text), part != .body else {
                throw NodeReader.Invalid("'\(text)' is not target, headers or userAgent")
            }
            return part
        }
        guard let id, let pattern else { return nil }
        let name = fields["name"].flatMap { reader.scalar($0, at: "\(path).name") } ?? id
        return Signature(
            id: id, name: name, severity: severity, pattern: pattern,
            parts: parts.isEmpty ? [.target, .headers] : Set(parts))
    }

    private static func window(_ fields: [String: Node], at path: String, _ reader: inout NodeReader) -> Duration {
        guard let node = fields["window"] else { return Self.defaultDetectionWindow }
        let value = reader.parse(node, at: "\(path).window") { try DurationText.parse($0) }
        guard let value, value >= .seconds(1), value <= .seconds(3600) else {
            if value != nil { reader.problem("\(path).window", "must be from 1s to 1h") }
            return Self.defaultDetectionWindow
        }
        return value
    }

    /// `action: alert | block`, and with `block` how long (`blockFor`, 5m unless said).
    private static func response(_ fields: [String: Node], at path: String, _ reader: inout NodeReader)
        -> DetectionResponse
    {
        let action = fields["action"].flatMap { node in
            reader.parse(node, at: "\(path).action") { text in
                guard ["alert", "block"].contains(text) else {
                    throw NodeReader.Invalid("'\(text)' is not alert or block")
                }
                return text
            }
        }
        let blockFor = fields["blockFor"].flatMap { node in
            reader.parse(node, at: "\(path).blockFor") { try DurationText.parse($0) }
        }
        if let blockFor, blockFor < .seconds(1) || blockFor > .seconds(24 * 3600) {
            reader.problem("\(path).blockFor", "must be from 1s to 24h")
        }
        guard action == "block" else {
            if fields["blockFor"] != nil { reader.problem("\(path).blockFor", "takes effect only with action: block") }
            return .alert
        }
        return .block(for: blockFor ?? Self.defaultBlockDuration)
    }

    /// A held request's body is kept in memory: 64 KiB at most, one HTTP/2 stream's initial window.
    static let largestBodyInspection = 65536
    static let defaultScanPorts = 20
    static let largestScanBound = 1000
    static let defaultDenialCount = 20
    static let defaultDetectionWindow = Duration.seconds(10)
    static let defaultBlockDuration = Duration.seconds(300)
}
