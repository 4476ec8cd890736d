import Logging

/// Writes like swift-log's stream handler, at the level a shared switch holds.
struct SwitchedLogHandler: LogHandler {
    private var stream: StreamLogHandler
    private let levelSwitch: LogLevelSwitch

    init(label: String, levelSwitch: LogLevelSwitch) {
        stream = StreamLogHandler.standardError(label: label)
        self.levelSwitch = levelSwitch
    }

    var logLevel: Logger.Level {
        get { levelSwitch.current }
        set { levelSwitch.current = newValue }
    }

    var metadata: Logger.Metadata {
        get { stream.metadata }
        set { stream.metadata = newValue }
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { stream[metadataKey: key] }
        set { stream[metadataKey: key] = newValue }
    }

    func log(event: LogEvent) {
        stream.log(event: event)
    }
}
