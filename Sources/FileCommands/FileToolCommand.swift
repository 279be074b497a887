import ArgumentParser

/// `outboard` as the `outboard` program itself runs it: the commands that only read and write
/// files (`outboard ics …`). Every other command is the engine's, in `outboard-engine` beside
/// it (`OutboardCommand`, whose tree holds these commands too): a program that links only what
/// reading a calendar needs (statically: see Package.swift) starts in 6 ms instead of the 27 ms
/// of one that also loads libcurl's thirty libraries, SQLite, the servers and their protocol
/// conformances.
package struct FileToolCommand: ParsableCommand {
    /// What `outboard` is, in one line (both command trees say it).
    package static let abstract = "Mirror external calendar feeds into a calendar server, field by field."

    package static let configuration = CommandConfiguration(
        commandName: "outboard", abstract: abstract, subcommands: [ICSCommand.self])

    package init() {}
}
