import Foundation

/// A real `outboard-target serve` process on 127.0.0.1, port 0, with its own data directory.
/// Tests end only the processes they started, by PID.
public final class TargetProcess: @unchecked Sendable {
    public let process: Process
    public let port: Int
    public let dataDirectory: URL
    public static let token = "test-token-all"

    public var endpoint: String { "http://127.0.0.1:\(port)/calws" }
    public var base: String { "http://127.0.0.1:\(port)" }

    /// The built executable beside the test bundle (swift build --build-tests builds both).
    public static var executable: URL {
        let candidates = [
            URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent(
                "outboard-target"),
            URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
                .deletingLastPathComponent()
                .appendingPathComponent(".build/debug/outboard-target"),
        ]
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0.path) } ?? candidates[0]
    }

    public static func temporaryDirectory() -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("outboard-target-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }

    /// Starts a server; waits (at most 30 s) for its "listening on" line.
    public static func start(
        dataDirectory: URL = temporaryDirectory(), tokensFile: String? = nil, environmentToken: String? = token,
        arguments: [String] = []
    ) throws -> TargetProcess {
        let p = Process()
        p.executableURL = executable
        var args = ["serve", "--port", "0", "--data", dataDirectory.path]
        if let tokensFile { args += ["--tokens", tokensFile] }
        p.arguments = args + arguments
        var env = ProcessInfo.processInfo.environment
        env["OUTBOARD_TARGET_TOKEN"] = environmentToken
        env["LOG_LEVEL"] = "warning"
        p.environment = env
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle.nullDevice
        try p.run()
        var seen = ""
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline {
            let data = out.fileHandleForReading.availableData
            if data.isEmpty { break }
            seen += String(decoding: data, as: UTF8.self)
            if let r = seen.range(of: "http://127.0.0.1:"), let end = seen[r.upperBound...].firstIndex(of: "/"),
                let port = Int(seen[r.upperBound..<end])
            {
                return TargetProcess(process: p, port: port, dataDirectory: dataDirectory)
            }
        }
        p.terminate()
        throw StartFailure(output: seen)
    }

    struct StartFailure: Error, CustomStringConvertible {
        var output: String
        var description: String { "outboard-target did not start: \(output)" }
    }

    private init(process: Process, port: Int, dataDirectory: URL) {
        self.process = process
        self.port = port
        self.dataDirectory = dataDirectory
    }

    /// SIGTERM, then wait for it to exit.
    public func stop() {
        if process.isRunning { process.terminate() }
        process.waitForExit()
    }

    /// SIGKILL: no chance to flush anything.
    public func kill9() {
        kill(process.processIdentifier, SIGKILL)
        process.waitForExit()
    }

    deinit {
        if process.isRunning {
            process.terminate()
            process.waitForExit()
        }
    }
}
