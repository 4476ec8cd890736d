import ArgumentParser

#if canImport(Glibc)
    import Glibc
#endif

/// Runs a command with the project's exit codes: argument-parser's usage errors (its own 64) become 2, a
/// `CommandFailure` exits with its status, anything else with 1.
public enum ExitCodeContract {
    public static func run<Command: ParsableCommand>(_ type: Command.Type) -> Never {
        do {
            var command = try type.parseAsRoot()
            try command.run()
            exit(0)
        } catch {
            fail(type, error)
        }
    }

    public static func runAsync<Command: AsyncParsableCommand>(_ type: Command.Type) async -> Never {
        do {
            var command = try type.parseAsRoot()
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
            exit(0)
        } catch {
            fail(type, error)
        }
    }

    private static func fail<Command: ParsableCommand>(_ type: Command.Type, _ error: Error) -> Never {
        if let failure = error as? CommandFailure {
            printError("\(type.configuration.commandName ?? "error"): \(failure.message)")
            exit(failure.status.rawValue)
        }
        let code = type.exitCode(for: error)
        if code == .validationFailure {
            printError(type.fullMessage(for: error))
            exit(ExitStatus.badInput.rawValue)
        }
        type.exit(withError: error)
    }

    /// Writes a line to standard error.
    public static func printError(_ message: String) {
        var line = message + "\n"
        line.withUTF8 { _ = write(STDERR_FILENO, $0.baseAddress, $0.count) }
    }
}
