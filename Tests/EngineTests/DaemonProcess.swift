import Engine
import EngineAdapters
import Foundation
import Testing
import TestSupport

/// The real `outboard run` on a test bed: its own Subscriptions and Filters folders, the bed's
/// state directory, the control endpoint on a free port with a known token, its log in a file.
/// Killed (by its PID) when the test lets go of it, if it still runs.
final class DaemonProcess: @unchecked Sendable {
    // Unchecked: set up once, then only read (the process object is thread-safe).
    static let controlToken = "control-test-token"
    let bed: Bed
    let dir = TargetProcess.temporaryDirectory()
    /// The configuration's folder (another engine's, when it shares it).
    let configuration: URL
    var subscriptions: URL { configuration.appendingPathComponent("Subscriptions") }
    var log: URL { dir.appendingPathComponent("daemon.log") }
    /// `--store`, when not the bed's SQLite state directory.
    let store: String?
    /// The state directory: the bed's, or with a store of its own, one of this engine's own.
    var state: URL { store == nil ? bed.state : dir.appendingPathComponent("state") }
    let process = Process()

    /// A daemon on the bed; with `store`, an engine of a cluster on that store, reading the
    /// configuration of `sharing` (another engine) when given.
    init(bed: Bed, store: String? = nil, sharing other: DaemonProcess? = nil) throws {
        self.bed = bed
        self.store = store
        configuration = other?.configuration ?? dir
        try FileManager.default.createDirectory(at: subscriptions, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(
            at: configuration.appendingPathComponent("Filters"), withIntermediateDirectories: true)
    }

    deinit { stop() }

    /// Kills it (SIGKILL, by its PID) if it still runs. A test calls it at its end, which also
    /// keeps the daemon alive until then.
    func stop() {
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitForExit()
        }
    }

    /// Writes `Subscriptions/ID.yaml`: the nginx feed, refreshed hourly, into the bed's target
    /// (or through `endpoint`, a gateway in front of it).
    func subscribe(_ id: String, feed: String, collection: String, through endpoint: String? = nil) throws {
        try
            "source:\n  url: \(bed.nginx.url(feed))\nrefresh: 1h\ntarget:\n  url: \(endpoint ?? bed.target.endpoint)\n  collection: \(collection)\n  token-env: TEST_TARGET_TOKEN\n"
            .write(to: subscriptions.appendingPathComponent("\(id).yaml"), atomically: true, encoding: .utf8)
    }

    /// Starts the daemon (looking at its configuration every 0.2 s) and returns its control
    /// endpoint's base URL once it has written it.
    func start(_ more: [String] = []) async throws -> String {
        process.executableURL = TargetProcess.executable.deletingLastPathComponent().appendingPathComponent("outboard")
        process.arguments =
            [
                "run", "--subscriptions", subscriptions.path, "--filters",
                configuration.appendingPathComponent("Filters").path,
                "--state", state.path, "--listen", "127.0.0.1:0", "--watch", "0.2",
            ] + (store.map { ["--store", $0] } ?? []) + more
        process.environment = ProcessInfo.processInfo.environment.merging(bed.env) { $1 }.merging([
            "OUTBOARD_CONTROL_TOKEN": Self.controlToken, "LOG_LEVEL": store == nil ? "warning" : "info",
        ]) { $1 }
        process.standardOutput = FileHandle.nullDevice
        FileManager.default.createFile(atPath: log.path, contents: nil)
        process.standardError = try FileHandle(forWritingTo: log)
        try process.run()
        let urlFile = state.appendingPathComponent("control-url")
        // The whole line: the file exists a moment before its content is written.
        func url() -> String? {
            guard let text = try? String(contentsOf: urlFile, encoding: .utf8), text.hasSuffix("\n") else { return nil }
            return text.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        #expect(try await eventually(30) { url() != nil }, "the daemon wrote its control URL")
        return try #require(url())
    }

    /// True once the daemon's log holds `text`.
    func logged(_ text: String) -> Bool { ((try? String(contentsOf: log, encoding: .utf8)) ?? "").contains(text) }
}

/// An HTTP exchange through libcurl (the daemon's control token by default), without following
/// redirects.
func call(
    _ method: String, _ url: String, token: String? = DaemonProcess.controlToken, headers: [(String, String)] = []
)
    async throws -> HTTPResponse
{
    var headers = headers
    if let token { headers.append(("Authorization", "Bearer \(token)")) }
    return try await CurlHTTPClient().send(
        HTTPRequest(
            method: method, url: url, headers: headers, body: method == "POST" ? [] : nil,
            connectTimeout: 5, timeout: 10, maxResponseBytes: 1 << 22, maxRedirects: 0))
}

/// The daemon's `/status`, by subscription id.
func daemonStatus(_ base: String) async throws -> [String: [String: Any]] {
    let body = try await call("GET", base + "/status").body
    let json = try JSONSerialization.jsonObject(with: Data(body)) as? [String: Any]
    let subs = json?["subscriptions"] as? [[String: Any]] ?? []
    return Dictionary(subs.map { ($0["id"] as? String ?? "", $0) }, uniquingKeysWith: { a, _ in a })
}

/// Polls `condition` every 50 ms for at most `seconds`.
func eventually(_ seconds: Double, _ condition: () async throws -> Bool) async throws -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if try await condition() { return true }
        try await Task.sleep(nanoseconds: 50_000_000)
    }
    return try await condition()
}
