import Intrusion

extension ConfigurationDump {
    /// `ids:` in the file's words, durations in milliseconds; custom signatures by their ids.
    struct IntrusionSettings: Encodable {
        struct Detector: Encodable {
            var distinctPorts: Int?
            var distinctAddresses: Int?
            var count: Int?
            var windowMs: Int64?
            var sets: [String]?
            var custom: [String]?
            var inspectBodyBytes: Int?
            var action: String
            var blockForMs: Int64?

            init(_ response: DetectionResponse) {
                switch response {
                case .alert:
                    action = "alert"
                case .block(let duration):
                    action = "block"
                    blockForMs = ConfigurationDump.milliseconds(duration)
                }
            }
        }

        struct Direction: Encodable {
            var mode: String
            var scan: Detector?
            var denials: Detector?
            var signatures: Detector?

            init(_ detection: DirectionDetection) {
                mode = detection.mode.rawValue
                scan = detection.scan.map { settings in
                    var detector = Detector(settings.response)
                    detector.distinctPorts = settings.distinctPorts
                    detector.distinctAddresses = settings.distinctAddresses
                    detector.windowMs = ConfigurationDump.milliseconds(settings.window)
                    return detector
                }
                denials = detection.denials.map { settings in
                    var detector = Detector(settings.response)
                    detector.count = settings.count
                    detector.windowMs = ConfigurationDump.milliseconds(settings.window)
                    return detector
                }
                signatures = detection.signatures.map { settings in
                    var detector = Detector(settings.response)
                    detector.sets = settings.sets.map(\.rawValue)
                    detector.custom = settings.custom.map(\.id)
                    detector.inspectBodyBytes = settings.inspectBodyBytes
                    return detector
                }
            }
        }

        var inbound: Direction?
        var outbound: Direction?
        var maxBlockedSources: Int

        init(_ detection: IntrusionDetection) {
            inbound = detection.inbound.map { Direction($0) }
            outbound = detection.outbound.map { Direction($0) }
            maxBlockedSources = detection.maxBlockedSources
        }
    }
}
