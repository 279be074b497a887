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

    @Test func theControlEndpointTriggersReloadsAndAGracefulShutdownCommitsWhatWasApplied() async throws {
        let bed = try Bed()
        let dir = TargetProcess.temporaryDirectory()
        let subs = dir.appendingPathComponent("Subscriptions")
        let filtersDir = dir.appendingPathComponent("Filters")
        try FileManager.default.createDirectory(at: subs, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: filtersDir, withIntermediateDirectories: true)
        func write(_ id: String, feed: String, collection: String) throws {
            try
                "source:\n  url: \(bed.nginx.url(feed))\nrefresh: 1h\ntarget:\n  url: \(bed.target.endpoint)\n  collection: \(collection)\n  token-env: TEST_TARGET_TOKEN\n"
                .write(to: subs.appendingPathComponent("\(id).yaml"), atomically: true, encoding: .utf8)
        }
        try bed.nginx.put("small.ics", feed([match(1), match(2)]))
        try write("small", feed: "small.ics", collection: "/t/small")

        let p = Process()
        p.executableURL = TargetProcess.executable.deletingLastPathComponent().appendingPathComponent("outboard")
        p.arguments = [
            "run", "--subscriptions", subs.path, "--filters", filtersDir.path, "--state", bed.state.path,
            "--listen", "127.0.0.1:0", "--watch", "0.2",
        ]
        p.environment = ProcessInfo.processInfo.environment.merging(bed.env) { $1 }.merging([
            "OUTBOARD_CONTROL_TOKEN": Self.controlToken, "LOG_LEVEL": "warning",
        ]) { $1 }
        p.standardOutput = FileHandle.nullDevice
        // Its log, to see when it has looked at a configuration change.
        let log = dir.appendingPathComponent("daemon.log")
        FileManager.default.createFile(atPath: log.path, contents: nil)
        p.standardError = try FileHandle(forWritingTo: log)
        func logged(_ text: String) -> Bool { ((try? String(contentsOf: log, encoding: .utf8)) ?? "").contains(text) }
        try p.run()
        defer {
            if p.isRunning {
                kill(p.processIdentifier, SIGKILL)
                p.waitUntilExit()
            }
        }

        let urlFile = bed.state.appendingPathComponent("control-url")
        #expect(
            try await eventually(30) { FileManager.default.fileExists(atPath: urlFile.path) },
            "the daemon wrote its control URL")
        let base = try String(contentsOf: urlFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)

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
    }
}
