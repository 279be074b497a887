import Foundation

/// A real Radicale (CalDAV) server on 127.0.0.1, from the virtual environment `.ci/setup` makes
/// (`.venv`), storing in a directory of its own, with Basic authentication (`user`:`password`).
/// Tests end only the processes they started, by PID.
public final class RadicaleProcess: @unchecked Sendable {
    public let process: Process
    public let port: Int
    public static let user = "outboard"
    public static let password = "right"

    public var base: String { "http://127.0.0.1:\(port)" }

    /// The repository's `.venv/bin/python`.
    static var python: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent(".venv/bin/python")
    }

    /// Starts a server; waits (at most 30 s) until it accepts connections.
    public static func start() throws -> RadicaleProcess {
        guard FileManager.default.isExecutableFile(atPath: python.path) else {
            throw StartFailure(output: "\(python.path) is missing: run bash .ci/setup")
        }
        let dir = TargetProcess.temporaryDirectory()
        let users = dir.appendingPathComponent("users")
        try "\(user):\(password)\n".write(to: users, atomically: true, encoding: .utf8)
        let port = try NginxProcess.freePort()
        let p = Process()
        p.executableURL = python
        p.arguments = [
            "-m", "radicale", "--server-hosts", "127.0.0.1:\(port)",
            "--storage-filesystem-folder", dir.appendingPathComponent("collections").path,
            "--auth-type", "htpasswd", "--auth-htpasswd-filename", users.path, "--auth-htpasswd-encryption", "plain",
            "--logging-level", "warning",
        ]
        let log = dir.appendingPathComponent("radicale.log")
        FileManager.default.createFile(atPath: log.path, contents: nil)
        p.standardOutput = try FileHandle(forWritingTo: log)
        p.standardError = try FileHandle(forWritingTo: log)
        try p.run()
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline, p.isRunning {
            if NginxProcess.canConnect(port) { return RadicaleProcess(process: p, port: port) }
            usleep(50_000)
        }
        if p.isRunning { kill(p.processIdentifier, SIGKILL) }
        throw StartFailure(output: (try? String(contentsOf: log, encoding: .utf8)) ?? "")
    }

    struct StartFailure: Error, CustomStringConvertible {
        var output: String
        var description: String { "Radicale did not start: \(output)" }
    }

    private init(process: Process, port: Int) {
        self.process = process
        self.port = port
    }

    /// Sends a request as the user, with curl; returns the HTTP status.
    @discardableResult
    public func send(_ method: String, _ path: String, body: [UInt8]? = nil, contentType: String? = nil) throws -> Int {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
        var args = ["-s", "-o", "/dev/null", "-w", "%{http_code}", "-X", method, "-u", "\(Self.user):\(Self.password)"]
        if let contentType { args += ["-H", "Content-Type: \(contentType)"] }
        let file = TargetProcess.temporaryDirectory().appendingPathComponent("body")
        if let body {
            try Data(body).write(to: file)
            args += ["--data-binary", "@\(file.path)"]
        }
        p.arguments = args + [base + path]
        let out = Pipe()
        p.standardOutput = out
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitForExit()
        return Int(String(decoding: data, as: UTF8.self)) ?? 0
    }

    /// Makes the calendar collection at `path` (such as `/outboard/cal/`), and its parent.
    public func makeCalendar(_ path: String) throws {
        let parent = (path.hasSuffix("/") ? String(path.dropLast()) : path).split(separator: "/").dropLast()
        try send("MKCOL", "/" + parent.joined(separator: "/") + "/")
        let status = try send("MKCALENDAR", path)
        guard status == 201 else { throw StartFailure(output: "MKCALENDAR \(path) answered \(status)") }
    }

    /// Puts a calendar object; returns the HTTP status.
    @discardableResult
    public func put(_ path: String, _ body: [UInt8]) throws -> Int {
        try send("PUT", path, body: body, contentType: "text/calendar; charset=utf-8")
    }

    /// Stops it with SIGKILL (as `NginxProcess`: it keeps the signal mask it inherits from the
    /// test runner, where SIGTERM is blocked), then waits for it to exit.
    public func stop() {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitForExit()
    }

    deinit { stop() }
}
