import Foundation

/// A real PostgreSQL server (Debian's `postgresql` package) in a temporary folder on 127.0.0.1,
/// started by the tests and stopped by its PID. `initdb` and the server refuse to run as root, so
/// as root both run as the `postgres` user the package creates (`setpriv`, which runs the program
/// in its own process: the PID the test holds is the server's). Durability is off (`fsync=off`):
/// the tests stop the server, they do not pull its power.
public final class PostgresProcess: @unchecked Sendable {
    // Unchecked: `process` changes only in `stop` and `start`, which the tests call in turn.
    public private(set) var process: Process?
    public let port: Int
    public let directory: URL
    let binaries: String

    /// The role the tests connect as (no password: trust on loopback).
    public static let user = "outboard"

    /// The store URL of a database on this server.
    public func url(database: String) -> String { "postgres://\(Self.user)@127.0.0.1:\(port)/\(database)" }

    /// The folder of Debian's PostgreSQL programs (the newest installed), or nil.
    public static var installed: String? {
        for v in ["17", "16", "15"] where FileManager.default.fileExists(atPath: "/usr/lib/postgresql/\(v)/bin/initdb")
        {
            return "/usr/lib/postgresql/\(v)/bin"
        }
        return nil
    }

    /// Makes a new cluster and starts its server.
    public static func start() throws -> PostgresProcess {
        guard let binaries = installed else {
            throw StartFailure(output: "PostgreSQL is not installed (Debian's postgresql package; bash .ci/setup)")
        }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("outboard-pg-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        if getuid() == 0 {
            try FileManager.default.setAttributes([.ownerAccountName: "postgres"], ofItemAtPath: dir.path)
        }
        let initdb = try run(
            binaries + "/initdb",
            ["-D", dir.appendingPathComponent("data").path, "-A", "trust", "-U", user, "-E", "UTF8", "--no-sync"])
        guard initdb.status == 0 else { throw StartFailure(output: "initdb: \(initdb.output)") }
        let pg = PostgresProcess(port: try NginxProcess.freePort(), directory: dir, binaries: binaries)
        try pg.start()
        return pg
    }

    init(port: Int, directory: URL, binaries: String) {
        self.port = port
        self.directory = directory
        self.binaries = binaries
    }

    /// Starts the server (again, after `stop`) on the same port and data; returns once it
    /// accepts connections.
    public func start() throws {
        let log = directory.appendingPathComponent("server.log")
        FileManager.default.createFile(atPath: log.path, contents: nil)
        let p = Self.process(
            binaries + "/postgres",
            [
                "-D", directory.appendingPathComponent("data").path, "-p", "\(port)", "-c",
                "listen_addresses=127.0.0.1",
                "-c", "unix_socket_directories=\(directory.path)", "-c", "fsync=off", "-c", "full_page_writes=off",
                "-c", "max_connections=200",
            ])
        let handle = try FileHandle(forWritingTo: log)
        p.standardOutput = handle
        p.standardError = handle
        try p.run()
        process = p
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline {
            if !p.isRunning { break }
            let ready = try Self.run(binaries + "/pg_isready", ["-h", "127.0.0.1", "-p", "\(port)", "-U", Self.user])
            if ready.status == 0 { return }
            usleep(50_000)
        }
        stop()
        throw StartFailure(output: (try? String(contentsOf: log, encoding: .utf8)) ?? "")
    }

    /// Stops the server by its PID (a fast shutdown: its sessions are ended) and waits for it.
    public func stop() {
        guard let p = process, p.isRunning else { return }
        kill(p.processIdentifier, SIGINT)
        p.waitForExit()
        process = nil
    }

    /// Stops the server and removes its folder.
    public func remove() {
        stop()
        try? FileManager.default.removeItem(at: directory)
    }

    /// Runs SQL through psql on database `database`; its output, or an error with it.
    @discardableResult
    public func psql(_ sql: String, database: String = "postgres") throws -> String {
        let r = try Self.run(
            binaries + "/psql",
            [
                "-h", "127.0.0.1", "-p", "\(port)", "-U", Self.user, "-d", database, "-v", "ON_ERROR_STOP=1", "-At",
                "-c", sql,
            ])
        guard r.status == 0 else { throw StartFailure(output: "psql: \(r.output)") }
        return r.output
    }

    /// Makes a new, empty database and returns its store URL.
    public func newDatabase() throws -> String {
        let name = "outboard_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(12).lowercased()
        try psql("CREATE DATABASE \(name)")
        return url(database: name)
    }

    /// A PostgreSQL program, as `postgres` when this process is root.
    static func process(_ program: String, _ arguments: [String]) -> Process {
        let p = Process()
        if getuid() == 0 {
            p.executableURL = URL(fileURLWithPath: "/usr/bin/setpriv")
            p.arguments = ["--reuid=postgres", "--regid=postgres", "--init-groups", program] + arguments
        } else {
            p.executableURL = URL(fileURLWithPath: program)
            p.arguments = arguments
        }
        return p
    }

    static func run(_ program: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
        let p = process(program, arguments)
        let out = Pipe()
        p.standardOutput = out
        p.standardError = out
        p.currentDirectoryURL = URL(fileURLWithPath: "/tmp")
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitForExit()
        return (p.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    public struct StartFailure: Error, CustomStringConvertible {
        public var output: String
        public var description: String { "PostgreSQL did not start: \(output)" }
    }
}
