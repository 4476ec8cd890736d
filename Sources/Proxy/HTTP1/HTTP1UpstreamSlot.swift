import NIOHTTP1

/// The one upstream connection of an HTTP/1 client connection: opened for the first allowed request, kept for those
/// after it while both sides keep it. A value; the connection itself is whatever the caller names it by.
enum HTTP1UpstreamSlot<Connection> {
    case empty
    /// Parts forwarded before the connect completed, sent once it does.
    case connecting(pending: [HTTPClientRequestPart])
    case connected(Connection)
    /// Gone, or given up: nothing more is sent.
    case closed

    /// What sending a part takes.
    enum Sending {
        /// Write it on the open connection.
        case write(to: Connection)
        /// Held until the connection, which must be opened now, is up.
        case dial
        /// Held until the connection being opened is up.
        case queued
        /// Dropped: the connection is gone.
        case dropped
    }

    mutating func send(_ part: HTTPClientRequestPart) -> Sending {
        switch self {
        case .connected(let connection):
            return .write(to: connection)
        case .connecting(var pending):
            // Emptied first, so the append does not copy the array.
            self = .closed
            pending.append(part)
            self = .connecting(pending: pending)
            return .queued
        case .empty:
            self = .connecting(pending: [part])
            return .dial
        case .closed:
            return .dropped
        }
    }

    /// The connection being opened is up. - Returns: the parts held for it, or nil when none was being opened (the
    /// slot was given up meanwhile, and the new connection is not wanted).
    mutating func connected(_ connection: Connection) -> [HTTPClientRequestPart]? {
        guard case .connecting(let pending) = self else { return nil }
        self = .connected(connection)
        return pending
    }

    /// Gives the slot up for good. - Returns: the connection, if one was open, for the caller to close or reuse.
    mutating func close() -> Connection? {
        defer { self = .closed }
        return connection
    }

    var connection: Connection? {
        if case .connected(let connection) = self { return connection }
        return nil
    }

    var isConnecting: Bool {
        if case .connecting = self { return true }
        return false
    }
}
