import Foundation

/// A real CalDAV server on 127.0.0.1, from the virtual environment `.ci/setup` makes (`.venv`),
/// storing in a directory of its own. Tests end only the processes they started, by PID.
///
/// - Radicale 3.9 checks Basic credentials (`user`:`password`, a plain htpasswd file): `user` may
///   read and write every collection, `reader` only read.
/// - Xandikos 0.4 has none here: it checks credentials only over HTTPS with a certificate it
///   makes itself (`--autocert`), which needs a package the environment does not have; every
///   request is answered as if by the owner.
///
/// They differ where real servers differ: a token they no longer know is 403 on Radicale and 412
/// on Xandikos; a UID already in the collection is 409 on Radicale and 412 on Xandikos;
/// `DAV:limit` is ignored by Radicale and cuts Xandikos's answer without saying so.
public final class CalDAVServerProcess: @unchecked Sendable {
    public enum Kind: String, Sendable, CaseIterable, CustomStringConvertible {
        case radicale, xandikos
        public var description: String { rawValue }
    }

    public let kind: Kind
    public let process: Process
    public let port: Int
    public static let user = "outboard"
    public static let password = "right"
    /// A user that may only read (Radicale), with the same password.
    public static let reader = "reader"

    public var base: String { "http://127.0.0.1:\(port)" }
    /// Whether the server checks Basic credentials.
    public var checksCredentials: Bool { kind == .radicale }

    /// The repository's `.venv`, which `.ci/setup` makes.
    public static var venv: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent(".venv")
    }

    static var python: URL { venv.appendingPathComponent("bin/python") }

    /// Starts a server; waits (at most 30 s) until it accepts connections.
    public static func start(_ kind: Kind) throws -> CalDAVServerProcess {
        guard FileManager.default.isExecutableFile(atPath: python.path) else {
            throw StartFailure(kind: kind, output: "\(python.path) is missing: run bash .ci/setup")
        }
        let dir = TargetProcess.temporaryDirectory()
        let collections = dir.appendingPathComponent("collections")
        let port = try NginxProcess.freePort()
        let p = Process()
        p.executableURL = python
        switch kind {
        case .radicale:
            let users = dir.appendingPathComponent("users")
            try "\(user):\(password)\n\(reader):\(password)\n".write(to: users, atomically: true, encoding: .utf8)
            // The user may read and write everywhere, the reader only read.
            let rights = dir.appendingPathComponent("rights")
            try """
            [user]
            user: \(user)
            collection: .*
            permissions: RrWw
            [reader]
            user: \(reader)
            collection: .*
            permissions: Rr
            """.write(to: rights, atomically: true, encoding: .utf8)
            p.arguments = [
                "-m", "radicale", "--server-hosts", "127.0.0.1:\(port)", "--storage-filesystem-folder",
                collections.path, "--auth-type", "htpasswd", "--auth-htpasswd-filename", users.path,
                "--auth-htpasswd-encryption", "plain", "--rights-type", "from_file", "--rights-file", rights.path,
                "--logging-level", "info",
            ]
        case .xandikos:
            // The root must exist: Xandikos answers every MKCOL under a missing one with 409.
            try FileManager.default.createDirectory(at: collections, withIntermediateDirectories: true)
            p.arguments = [
                "-m", "xandikos", "serve", "-d", collections.path, "--state-dir",
                dir.appendingPathComponent("state").path,
                "-l", "127.0.0.1", "-p", "\(port)", "--no-detect-systemd",
            ]
        }
        let log = dir.appendingPathComponent("server.log")
        FileManager.default.createFile(atPath: log.path, contents: nil)
        p.standardOutput = try FileHandle(forWritingTo: log)
        p.standardError = try FileHandle(forWritingTo: log)
        try p.run()
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline, p.isRunning {
            if NginxProcess.canConnect(port) {
                return CalDAVServerProcess(kind: kind, process: p, port: port, directory: dir)
            }
            usleep(50_000)
        }
        if p.isRunning { kill(p.processIdentifier, SIGKILL) }
        p.waitForExit()
        throw StartFailure(kind: kind, output: (try? String(contentsOf: log, encoding: .utf8)) ?? "")
    }

    struct StartFailure: Error, CustomStringConvertible {
        var kind: Kind
        var output: String
        var description: String { "\(kind) did not start: \(output)" }
    }

    private init(kind: Kind, process: Process, port: Int, directory: URL) {
        self.kind = kind
        self.process = process
        self.port = port
        self.directory = directory
    }

    /// The server's own folder: its log and its storage (`collections`).
    public let directory: URL

    /// The requests Radicale has logged so far, as "METHOD path" (Radicale logs each at info
    /// level; Xandikos logs none: empty).
    public func requests() -> [String] {
        guard kind == .radicale,
            let log = try? String(contentsOf: directory.appendingPathComponent("server.log"), encoding: .utf8)
        else { return [] }
        return log.split(separator: "\n").compactMap { line in
            // "[...] [INFO] PUT request for '/path' received from ..." (a REPORT or PROPFIND says
            // "with depth '1'" before "received").
            guard let start = line.range(of: " request for '"), line.contains("' received from"),
                let end = line[start.upperBound...].firstIndex(of: "'")
            else { return nil }
            let method = line[..<start.lowerBound].split(separator: " ").last.map(String.init) ?? ""
            return method + " " + line[start.upperBound..<end]
        }
    }

    /// Makes Radicale forget every sync token of the collection at `path` (as its
    /// `max_sync_token_age` does in time): the next sync-collection from an old one is refused.
    public func forgetTokens(of path: String) throws {
        let trimmed = path.split(separator: "/").joined(separator: "/")
        let tokens = directory.appendingPathComponent(
            "collections/collection-root/\(trimmed)/.Radicale.cache/sync-token")
        try FileManager.default.removeItem(at: tokens)
    }

    /// Sends a request with curl (as the user where the server checks credentials); returns the
    /// HTTP status.
    @discardableResult
    public func send(_ method: String, _ path: String, body: [UInt8]? = nil, contentType: String? = nil) throws -> Int {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
        var args = ["-s", "-o", "/dev/null", "-w", "%{http_code}", "-X", method]
        if checksCredentials { args += ["-u", "\(Self.user):\(Self.password)"] }
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

    /// Makes the calendar collection at `path` (such as `/outboard/cal/`), and its ancestors
    /// (201, or 405 when one exists).
    public func makeCalendar(_ path: String) throws {
        let parents = (path.hasSuffix("/") ? String(path.dropLast()) : path).split(separator: "/").dropLast()
        for n in parents.indices { try send("MKCOL", "/" + parents[...n].joined(separator: "/") + "/") }
        let status = try send("MKCALENDAR", path)
        guard status == 201 else { throw StartFailure(kind: kind, output: "MKCALENDAR \(path) answered \(status)") }
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
