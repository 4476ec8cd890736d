import Logging
import Synchronization

/// The proxy's log level, changeable while it runs (`POST /logging?level=debug` on the admin port): every logger's
/// handler reads it here.
final class LogLevelSwitch: Sendable {
    private let level: Mutex<Logger.Level>

    init(_ level: Logger.Level) {
        self.level = Mutex(level)
    }

    var current: Logger.Level {
        get { level.withLock { $0 } }
        set { level.withLock { $0 = newValue } }
    }
}
