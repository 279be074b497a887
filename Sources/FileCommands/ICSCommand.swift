import ArgumentParser
import CalendarModel
#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif
import XCal

/// `outboard ics …`: read, convert and hash iCalendar files.
package struct ICSCommand: ParsableCommand {
    package static let configuration = CommandConfiguration(
        commandName: "ics",
        abstract: "Inspect, convert, hash and expand iCalendar and xCal files.",
        subcommands: [Inspect.self, ToXCal.self, FromXCal.self, Hash.self, ExpandCommand.self]
    )

    package init() {}

    struct Inspect: ParsableCommand {
        // Every command names itself: for a name derived from the type (`String(describing:)`),
        // each run of `outboard` searched every protocol conformance in the binary (about a
        // millisecond).
        static let configuration = CommandConfiguration(
            commandName: "inspect",
            abstract: "Print one JSON object per line for every component of every item.",
            discussion:
                "Exit status: 0 clean, 1 when the input had problems (listed on standard error with line numbers), 2 for bad usage."
        )
        @Argument(help: "An iCalendar file, or - for standard input.") var file: String

        func run() throws {
            let input = try InputFile(file)
            let document = try input.parseICalendar()
            let set = ItemGrouper.items(from: document)
            for item in set.items {
                for c in item.components {
                    Console.current.print(InspectRecord(item: item, component: c, diagnostics: set.diagnostics).json)
                }
            }
            try input.report(set.diagnostics)
        }
    }

    struct ToXCal: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "to-xcal", abstract: "Convert iCalendar to xCal (RFC 6321).")
        @Argument(help: "An iCalendar file, or - for standard input.") var file: String

        func run() throws {
            let input = try InputFile(file)
            let document = try input.parseICalendar()
            Console.current.write(XCalWriter.write(document.calendars) + [0x0A])
            try input.report(document.diagnostics)
        }
    }

    struct FromXCal: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "from-xcal", abstract: "Convert xCal (RFC 6321) to iCalendar.")
        @Argument(help: "An xCal file, or - for standard input.") var file: String

        func run() throws {
            let input = try InputFile(file)
            let document: ICalDocument
            do {
                document = try XCalReader().read(input.bytes)
            } catch {
                throw CommandExit.failed("\(input.name): \(error)")
            }
            Console.current.write(ICalWriter.write(document.calendars))
            try input.report(document.diagnostics)
        }
    }

    struct Hash: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "hash",
            abstract: "Print each item's key and the SHA-256 of its canonical form, tab-separated.",
            discussion: "By default PRODID, VERSION, DTSTAMP, CREATED and LAST-MODIFIED are left out of the hash."
        )
        @Argument(help: "An iCalendar file, or - for standard input.") var file: String
        @Option(name: .customLong("skip"), help: "Also leave out this property (glob, e.g. X-MS-*). Repeatable.")
        var skip: [String] = []
        @Flag(help: "Do not leave out the default properties.") var noDefaultSkips = false

        func run() throws {
            let input = try InputFile(file)
            let set = ItemGrouper.items(from: try input.parseICalendar())
            let skipList = (noDefaultSkips ? SkipList.none : .defaults).merging(SkipList(properties: skip))
            for item in set.items {
                Console.current.print("\(item.key)\t\(CanonicalForm.hash(of: item, skipping: skipList))")
            }
            try input.report(set.diagnostics)
        }
    }
}

/// A command's input file (or standard input for `-`), with diagnostics reported against its name.
package struct InputFile {
    package let name: String
    package let contents: FileBytes

    package init(_ path: String) throws {
        if path == "-" {
            name = "<stdin>"
            contents = FileBytes(Console.current.readStandardInput())
            return
        }
        name = path
        guard let contents = FileBytes(path: path) else {
            var info = stat()
            let why =
                stat(path, &info) != 0
                ? (errno == ENOENT ? "no such file" : String(cString: strerror(errno)))
                : info.st_mode & S_IFMT == S_IFDIR ? "it is a directory" : "permission denied"
            throw CommandExit.usage("cannot read \(path): \(why)")
        }
        self.contents = contents
    }

    /// The input's bytes, copied into an array.
    package var bytes: [UInt8] { contents.withBytes { Array($0) } }

    /// The parsed calendar; input that is not iCalendar at all ends the command with
    /// `failureCode` (1 where it is a problem of the input, 2 where it makes the command meaningless).
    package func parseICalendar(failureCode: Int32 = 1) throws -> ICalDocument {
        do {
            return try contents.withBytes { (bytes) throws(ICalendarError) in try ICalParser().parse(bytes) }
        } catch {
            throw CommandExit(code: failureCode, message: "\(name): \(error)")
        }
    }

    /// Prints each diagnostic as `file:line: message` on standard error; throws exit 1 if any.
    package func report(_ diagnostics: [ICalDiagnostic]) throws {
        print(diagnostics)
        if !diagnostics.isEmpty { throw CommandExit.problems }
    }

    /// Prints each diagnostic as `file:line: message (VEVENT uid=…)` on standard error.
    package func print(_ diagnostics: [ICalDiagnostic]) {
        for d in diagnostics {
            Console.current.error(
                d.line > 0 ? "\(name):\(d.line): \(d.messageWithContext)" : "\(name): \(d.messageWithContext)")
        }
    }
}
