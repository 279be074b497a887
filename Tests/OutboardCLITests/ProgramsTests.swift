import Foundation
import Testing
import TestSupport

/// `outboard` as a user runs it: one program for every command, whose output is that of the
/// command tree the tests drive in process.
@Suite struct ProgramsTests {
    static let directory = TargetProcess.executable.deletingLastPathComponent()

    /// Runs `program` with `arguments`; (exit code, standard output, standard error, the size
    /// of the pipe its standard output went to, when it ended).
    static func run(
        _ program: URL, _ arguments: [String]
    ) throws -> (code: Int32, out: String, err: String, pipeSize: Int32) {
        let p = Process()
        p.executableURL = program
        p.arguments = arguments
        let out = Pipe()
        let err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        // Read before waiting: a full pipe would hold the program up.
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        p.waitForExit()
        let getPipeSize: Int32 = 1032  // F_GETPIPE_SZ
        return (
            p.terminationStatus, String(decoding: stdout, as: UTF8.self), String(decoding: stderr, as: UTF8.self),
            fcntl(out.fileHandleForReading.fileDescriptor, getPipeSize)
        )
    }

    @Test func outboardRunsEveryCommandAsTheCommandTreeDoes() async throws {
        let file = try temporaryFile("cal.ics", ExpandCommandTests.calendar)
        let args = ["ics", "expand", file, "--from", "2026-01-05", "--to", "2026-01-20"]
        let program = Self.directory.appendingPathComponent("outboard")
        let expand = try Self.run(program, args)
        #expect(expand.code == 0, "\(expand.err)")
        #expect(expand.out == (await outboard(arguments: args)).out)
        #expect(expand.out.split(separator: "\n").count == 6)
        // The pipe it wrote to was widened to 1 MiB (where the system allows that much), and
        // only by `expand`.
        let maxPipe = (try? String(contentsOfFile: "/proc/sys/fs/pipe-max-size", encoding: .utf8))
            .flatMap { Int32($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
        if getuid() == 0 || (maxPipe ?? 0) >= 1 << 20 { #expect(expand.pipeSize == 1 << 20) }
        #expect(try Self.run(program, ["ics", "hash", file]).pipeSize == Self.pipeSizeByDefault())
        #expect(try Self.run(program, ["ics", "expand"]).code == 2)
        for args in [["ics", "expand", "--help"], ["ics", "--help"], ["--help"], ["sync", "--help"]] {
            let help = try Self.run(program, args)
            #expect(help.code == 0)
            #expect(help.out == (await outboard(arguments: args)).out)
        }
        let version = try Self.run(program, ["version"])
        #expect(version.code == 0)
        #expect(version.out.hasPrefix("outboard 0.1.0\nlibcurl/"), "\(version.out)")
        // An engine command runs in the same program: with no subscription to read, it says so.
        let empty = FileManager.default.temporaryDirectory.appendingPathComponent("outboard-none-\(UUID().uuidString)")
        let sync = try Self.run(program, ["sync", "--all", "--subscriptions", empty.path, "--filters", empty.path])
        #expect(sync.code == 1 && sync.err.contains("no subscription files (*.yaml) here"), "\(sync)")
    }

    /// Many pieces of lines, made on every core, come out in order (the command in-process
    /// writes them in one recording console).
    @Test func aLongExpansionComesOutWhole() async throws {
        let file = try temporaryFile("long.ics", ExpandCommandTests.longCalendar)
        let args = ["ics", "expand", file, "--from", "2026-01-01", "--to", "2026-02-01"]
        let expand = try Self.run(Self.directory.appendingPathComponent("outboard"), args)
        #expect(expand.out.split(separator: "\n").count == 2000)
        #expect(expand.out == (await outboard(arguments: args)).out)
        #expect(expand.code == 1 && expand.err.contains("Unknown/Zone"))
    }

    /// Output that cannot be written (a full disk) ends the command with exit 1 and says why,
    /// whatever the command found; the lines stop being made.
    @Test func outputThatCannotBeWrittenIsAFailure() throws {
        let file = try temporaryFile("long.ics", ExpandCommandTests.longCalendar)
        for args in [["ics", "expand", file, "--from", "2026-01-01", "--to", "2026-02-01"], ["ics", "hash", file]] {
            let p = Process()
            p.executableURL = Self.directory.appendingPathComponent("outboard")
            p.arguments = args
            p.standardOutput = FileHandle(forWritingAtPath: "/dev/full")
            let err = Pipe()
            p.standardError = err
            try p.run()
            let stderr = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            p.waitForExit()
            #expect(p.terminationStatus == 1)
            #expect(stderr.contains("outboard: cannot write standard output: No space left on device"), "\(stderr)")
        }
    }

    /// The size of a new pipe.
    static func pipeSizeByDefault() -> Int32 {
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else { return -1 }
        defer {
            for fd in fds { close(fd) }
        }
        return fcntl(fds[0], 1032)  // F_GETPIPE_SZ
    }
}
