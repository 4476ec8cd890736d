/// An error that ends a command with a chosen exit status and a message for the operator.
public struct CommandFailure: Error, CustomStringConvertible {
    public let status: ExitStatus
    public let message: String

    public init(_ status: ExitStatus, _ message: String) {
        self.status = status
        self.message = message
    }

    public var description: String { message }

    /// Bad input: nothing was changed.
    public static func badInput(_ message: String) -> CommandFailure { CommandFailure(.badInput, message) }
}
