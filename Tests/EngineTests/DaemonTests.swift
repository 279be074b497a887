import CalendarModel
import Engine
import Filters
import Foundation
import Testing
import TestSupport

/// The real `outboard run` process with nginx and the real target: the control endpoint with and
/// without its token, a trigger that brings a changed feed over at once, a reload by file change
/// (a valid and an invalid one), and SIGTERM in the middle of a large initial load.
@Suite(.serialized) struct DaemonTests {
    static let controlToken = "control-test-token"

    /// An HTTP exchange with the daemon through libcurl.
    func call(_ method: String, _ url: String, token: String? = controlToken) async throws -> (
        status: Int, body: String
    ) {
        var headers: [(String, String)] = []
        if let token { headers.append(("Authorization", "Bearer \(token)")) }
        let r = try await CurlHTTPClient().send(
            HTTPRequest(
                method: method, url: url, headers: headers, body: method == "POST" ? [] : nil,
                connectTimeout: 5, timeout: 10, maxResponseBytes: 1 << 22, maxRedirects: 0))
        return (r.status, String(decoding: r.body, as: UTF8.self))
    }

    func status(_ base: String) async throws -> [String: [String: Any]] {
        let body = try await call("GET", base + "/status").body
        let json = try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any]
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

    /// The daemon's control URL, once it has written it.
    func controlURL(_ bed: Bed) async throws -> String {
        let urlFile = bed.state.appendingPathComponent("control-url")
        #expect(
            try await eventually(30) { FileManager.default.fileExists(atPath: urlFile.path) },
            "the daemon wrote its control URL")
        return try String(contentsOf: urlFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Ten subscriptions of one feed in the real daemon: the feed's host sees one request for
    /// their initial load, and one when all ten are triggered after the feed changed.
    @Test func tenSubscriptionsOfOneFeedMakeOneRequestPerRefresh() async throws {
        let bed = try Bed()
        let daemon = try DaemonRun(bed)
        try bed.nginx.put("holidays.ics", feed([match(1), match(2)]))
        let ids = (0..<10).map { "holidays-\($0)" }
        for id in ids { try daemon.write(id, feed: "holidays.ics", collection: "/t/\(id)") }
        try daemon.start()
        let base = try await controlURL(bed)
        #expect(
            try await eventually(60) {
                let all = try await status(base)
                return ids.allSatisfy { all[$0]?["items"] as? Int == 2 }
            }, "all ten mirrored the feed")
        #expect(bed.nginx.requests("/holidays.ics") == [200], "one request for ten initial loads")

        try bed.nginx.put("holidays.ics", feed([match(1, summary: "Cup final"), match(2)]))
        for id in ids { #expect(try await call("POST", base + "/subscriptions/\(id)/sync").status == 202) }
        #expect(
            try await eventually(60) {
                for id in ids {
                    if try await bed.summaries("/t/\(id)")["match-1@club"] != "Cup final" { return false }
                }
                return true
            }, "the change reached all ten")
        #expect(bed.nginx.requests("/holidays.ics") == [200, 200], "one request for ten triggered passes")
        daemon.stop()
    }

    @Test func theControlEndpointTriggersReloadsAndAGracefulShutdownCommitsWhatWasApplied() async throws {
        let bed = try Bed()
        let daemon = try DaemonRun(bed)
        let subs = daemon.subscriptions
        func write(_ id: String, feed: String, collection: String) throws {
            try daemon.write(id, feed: feed, collection: collection)
        }
        func logged(_ text: String) -> Bool { daemon.logged(text) }
        try bed.nginx.put("small.ics", feed([match(1), match(2)]))
        try write("small", feed: "small.ics", collection: "/t/small")
        try daemon.start()
        let p = daemon.process

        let base = try await controlURL(bed)

        // The token: required everywhere but /health, and checked.
        #expect(try await call("GET", base + "/health", token: nil).status == 200)
        for (method, path) in [("GET", "/status"), ("GET", "/metrics"), ("POST", "/subscriptions/small/sync")] {
            #expect(try await call(method, base + path, token: nil).status == 401, "\(method) \(path) without a token")
            #expect(
                try await call(method, base + path, token: "wrong").status == 401,
                "\(method) \(path) with a wrong token")
        }
        #expect(try await call("POST", base + "/subscriptions/nope/sync").status == 404)

        // The first pass runs at once; then a changed feed comes over when triggered, not an hour later.
        #expect(try await eventually(30) { try await status(base)["small"]?["items"] as? Int == 2 })
        try bed.nginx.put("small.ics", feed([match(1, summary: "Final"), match(2)]))
        let triggered = try await call("POST", base + "/subscriptions/small/sync")
        #expect(triggered.status == 202 && triggered.body.contains("queued"), "\(triggered)")
        #expect(
            try await eventually(30) { try await bed.summaries("/t/small")["match-1@club"] == "Final" },
            "the trigger ran a pass")
        let metrics = try await call("GET", base + "/metrics").body
        #expect(metrics.contains("outboard_passes_total{subscription=\"small\",result=\"applied\"} 2"), "\(metrics)")
        #expect(metrics.contains("outboard_items_total{subscription=\"small\",change=\"updated\"} 1"))
        #expect(metrics.contains("outboard_queue_lag_seconds_count 2"))

        // An invalid change is refused whole and the old configuration keeps running: a broken
        // file and a valid new one arrive together; once the daemon says it refused the change,
        // the valid new subscription is not running either.
        try "source: [\n".write(to: subs.appendingPathComponent("broken.yaml"), atomically: true, encoding: .utf8)
        try write("extra", feed: "small.ics", collection: "/t/extra")
        #expect(try await eventually(30) { logged("reload refused") }, "the daemon looked at the change and refused it")
        #expect(try await status(base).keys.sorted() == ["small"], "nothing of a refused change is loaded")
        try FileManager.default.removeItem(at: subs.appendingPathComponent("broken.yaml"))
        try FileManager.default.removeItem(at: subs.appendingPathComponent("extra.yaml"))

        // A valid change is picked up without a signal: a large feed, whose initial load is then
        // interrupted by SIGTERM.
        let big = FeedGenerator(events: 3000, seed: 5).text()
        try bed.nginx.put("big.ics", Array(big.utf8))
        try write("big", feed: "big.ics", collection: "/t/big")
        #expect(
            try await eventually(30) { try await status(base)["big"] != nil }, "the new subscription file was loaded")
        #expect(try await eventually(120) { (try? await bed.client.list(collection: "/t/big").count) ?? 0 >= 100 })
        kill(p.processIdentifier, SIGTERM)
        let stopped = try await eventually(60) { !p.isRunning }
        #expect(stopped, "SIGTERM stops the daemon once the current batch is committed")
        #expect(p.terminationStatus == 0)

        // Everything the target acknowledged is recorded, and only that; the validators wait.
        let onTarget = try await bed.client.list(collection: "/t/big")
        let recorded = try bed.store.items("big")
        let items = ItemGrouper.items(from: try ICalParser().parse(big)).items.count
        #expect(onTarget.count < items, "stopped mid-pass (\(onTarget.count) of \(items) written)")
        #expect(
            Set(recorded.values.map(\.href)) == Set(onTarget.map(\.href)), "the status store matches the target exactly"
        )
        let state = try bed.store.feed("big")
        #expect(state.etag == nil && state.bodyHash == nil, "an interrupted pass stores no validators")
        #expect(state.failures == 0, "an interrupted pass is not a failure")

        // The next pass does the rest: every item exactly once.
        let s = try SubscriptionLoader.load(
            id: "big", text: try String(contentsOf: subs.appendingPathComponent("big.yaml"), encoding: .utf8),
            file: "big.yaml", filters: [:], environment: bed.env
        ).get()
        let r = await SyncPass(subscription: s, filters: FilterPipeline([]), store: bed.store, target: bed.client).run()
        #expect(r.succeeded && r.added.count == items - onTarget.count, "\(String(describing: r.error))")
        #expect(try await bed.client.list(collection: "/t/big").count == items)
        daemon.stop()
    }
}

/// `outboard run` as a test starts it on a bed: its own subscriptions and filters directories,
/// the bed's state, a control endpoint on a free port, its log in a file; killed by its PID when
/// the test is done with it.
final class DaemonRun {
    let bed: Bed
    let process = Process()
    let subscriptions: URL
    let filters: URL
    let log: URL

    init(_ bed: Bed) throws {
        self.bed = bed
        let dir = TargetProcess.temporaryDirectory()
        subscriptions = dir.appendingPathComponent("Subscriptions")
        filters = dir.appendingPathComponent("Filters")
        log = dir.appendingPathComponent("daemon.log")
        try FileManager.default.createDirectory(at: subscriptions, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: filters, withIntermediateDirectories: true)
    }

    /// A subscription of a feed nginx serves, refreshed hourly.
    func write(_ id: String, feed: String, collection: String) throws {
        try
            "source:\n  url: \(bed.nginx.url(feed))\nrefresh: 1h\ntarget:\n  url: \(bed.target.endpoint)\n  collection: \(collection)\n  token-env: TEST_TARGET_TOKEN\n"
            .write(to: subscriptions.appendingPathComponent("\(id).yaml"), atomically: true, encoding: .utf8)
    }

    func start() throws {
        process.executableURL = TargetProcess.executable.deletingLastPathComponent().appendingPathComponent("outboard")
        process.arguments = [
            "run", "--subscriptions", subscriptions.path, "--filters", filters.path, "--state", bed.state.path,
            "--listen", "127.0.0.1:0", "--watch", "0.2",
        ]
        process.environment = ProcessInfo.processInfo.environment.merging(bed.env) { $1 }.merging([
            "OUTBOARD_CONTROL_TOKEN": DaemonTests.controlToken, "LOG_LEVEL": "warning",
        ]) { $1 }
        process.standardOutput = FileHandle.nullDevice
        // Its log, to see when it has looked at a configuration change.
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        process.standardError = try FileHandle(forWritingTo: log)
        try process.run()
    }

    func logged(_ text: String) -> Bool { ((try? String(contentsOf: log, encoding: .utf8)) ?? "").contains(text) }

    /// Kills it (SIGKILL, by its PID) if it still runs. A test calls it at its end, which also
    /// keeps the daemon alive until then.
    func stop() {
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }

    deinit { stop() }
}
