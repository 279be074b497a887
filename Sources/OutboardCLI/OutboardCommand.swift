import ArgumentParser
import Engine
import EngineAdapters
import FileCommands
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
    public static func run(arguments: [String]) async -> Int32 { await runCommandLine(arguments) }

    /// Runs the command line `arguments` as `run(arguments:)` does when its command is
    /// synchronous (the `ics` commands among them), on the calling thread; nil, having run
    /// nothing, when the command is asynchronous.
    public static func runSynchronously(arguments: [String]) -> Int32? { runCommandLineSynchronously(arguments) }
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
