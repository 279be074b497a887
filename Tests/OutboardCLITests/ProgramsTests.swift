import Foundation
import Testing
import TestSupport

/// The two programs as a user runs them: `outboard` runs the `ics` commands itself and becomes
/// `outboard-engine` (same process, same arguments) for every other command.
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

    @Test func outboardRunsTheICSCommandsAndHandsEveryOtherCommandToTheEngine() async throws {
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
        #expect(try Self.run(program, ["ics", "hash", file]).pipeSize == 1 << 16)
        #expect(try Self.run(program, ["ics", "expand"]).code == 2)

        let version = try Self.run(program, ["version"])
        #expect(version.code == 0)
        #expect(version.out.hasPrefix("outboard 0.1.0\nlibcurl/"), "\(version.out)")
        let help = try Self.run(program, ["--help"])
        #expect(help.code == 0 && help.out.contains("sync") && help.out.contains("ics"), "\(help.out)")
    }

    @Test func outboardWithoutTheEngineStillRunsTheICSCommandsAndSaysWhatIsMissing() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("outboard-alone-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let alone = dir.appendingPathComponent("outboard")
        try FileManager.default.copyItem(at: Self.directory.appendingPathComponent("outboard"), to: alone)
        let file = try temporaryFile("s.ics", sample)

        let hash = try Self.run(alone, ["ics", "hash", file])
        #expect(hash.code == 0, "\(hash.err)")
        #expect(hash.out.split(separator: "\n").count == 2)

        for args in [["sync", "--all"], ["--help"], ["version"]] {
            let missing = try Self.run(alone, args)
            #expect(missing.code == 127)
            #expect(missing.out.isEmpty)
            #expect(
                missing.err.contains("cannot run \(dir.path)/outboard-engine: No such file or directory"),
                "\(missing.err)")
        }
    }
}
