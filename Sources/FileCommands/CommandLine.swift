import ArgumentParser

extension ParsableCommand {
    /// Runs the command line `arguments` (without the program name) with this command as the
    /// root and returns the exit code: 0 success, 1 when the input had problems (or, for
    /// comparisons, differences), 2 for bad usage or unreadable input. Output goes to
    /// `Console.current`.
    package static func runCommandLine(_ arguments: [String]) async -> Int32 {
        do {
            var command = try parseAsRoot(arguments)
            if var async = command as? AsyncParsableCommand {
                try await async.run()
            } else {
                try command.run()
            }
            return 0
        } catch {
            return exitCode(reporting: error)
        }
    }

    /// Runs the command line `arguments` as `runCommandLine` does when its command is
    /// synchronous (the `ics` commands among them), on the calling thread; nil, having run
    /// nothing, when the command is asynchronous.
    package static func runCommandLineSynchronously(_ arguments: [String]) -> Int32? {
        do {
            var command = try parseAsRoot(arguments)
            if command is AsyncParsableCommand { return nil }
            try command.run()
            return 0
        } catch {
            return exitCode(reporting: error)
        }
    }

    /// Reports what ended a command on the console and gives its exit code.
    private static func exitCode(reporting error: Error) -> Int32 {
        let console = Console.current
        if let exit = error as? CommandExit {
            if let message = exit.message { console.error("outboard: " + message) }
            return exit.code
        }
        let code = exitCode(for: error)
        let message = fullMessage(for: error)
        if code == .success {
            if !message.isEmpty { console.print(message) }
            return 0
        }
        if !message.isEmpty { console.error(message) }
        // ArgumentParser's usage errors exit 64 (EX_USAGE); Outboard documents 2, as diff(1) does.
        return code == .validationFailure ? 2 : code.rawValue
    }
}

/// Ends a command with an exit code and an optional message for standard error.
package struct CommandExit: Error {
    package var code: Int32
    package var message: String?

    package init(code: Int32, message: String?) {
        self.code = code
        self.message = message
    }

    /// The input had problems (already reported).
    package static let problems = CommandExit(code: 1, message: nil)
    /// Bad usage or unreadable input.
    package static func usage(_ message: String) -> CommandExit { CommandExit(code: 2, message: message) }
    /// Input that could not be read at all.
    package static func failed(_ message: String) -> CommandExit { CommandExit(code: 1, message: message) }
}

/// `outboard` as the `outboard` program itself runs it: the commands that only read and write
/// files (`outboard ics …`). Every other command is the engine's, in `outboard-engine` beside
/// it (`OutboardCommand`, whose tree holds these commands too): a program that links only what
/// reading a calendar needs starts in a third of the time of one that also links libcurl's
/// thirty libraries, SQLite, the servers and their protocol conformances.
package struct FileToolCommand: ParsableCommand {
    package static let configuration = CommandConfiguration(
        commandName: "outboard",
        abstract: "Mirror external calendar feeds into a calendar server, field by field.",
        subcommands: [ICSCommand.self]
    )

    package init() {}
}
