import ArgumentParser
import Engine
import SafeXML

/// `outboard`: the engine's command line.
public struct OutboardCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "outboard",
        abstract: "Mirror external calendar feeds into a calendar server, field by field.",
        subcommands: [
            CheckCommand.self, SyncCommand.self, VerifyCommand.self, RunCommand.self, StatusCommand.self,
            ICSCommand.self, FilterCommand.self, DiffCommand.self, ExplainCommand.self, VersionCommand.self,
        ]
    )

    public init() {}

    /// Runs the command line `arguments` (without the program name) and returns the exit code:
    /// 0 success, 1 when the input had problems (or, for comparisons, differences), 2 for bad
    /// usage or unreadable input. Output goes to `Console.current`.
    public static func run(arguments: [String]) async -> Int32 {
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

    /// Runs the command line `arguments` as `run(arguments:)` does when its command is
    /// synchronous (the `ics` commands among them), on the calling thread; nil, having run
    /// nothing, when the command is asynchronous.
    public static func runSynchronously(arguments: [String]) -> Int32? {
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
struct CommandExit: Error {
    var code: Int32
    var message: String?

    /// The input had problems (already reported).
    static let problems = CommandExit(code: 1, message: nil)
    /// Bad usage or unreadable input.
    static func usage(_ message: String) -> CommandExit { CommandExit(code: 2, message: message) }
    /// Input that could not be read at all.
    static func failed(_ message: String) -> CommandExit { CommandExit(code: 1, message: message) }
}

/// `outboard version`.
struct VersionCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "version", abstract: "Print the versions of Outboard and the libraries it uses.")

    func run() throws {
        Console.current.print("outboard 0.1.0")
        Console.current.print(LibraryVersions.curl)
        Console.current.print(XMLLibraryVersion.string)
    }
}
