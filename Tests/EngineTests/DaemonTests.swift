import CalendarModel
import Engine
import EngineAdapters
import Filters
import Foundation
import Testing
import TestSupport

/// The real `outboard run` process with nginx and the real target: the control endpoint with and
/// without its token, a trigger that brings a changed feed over at once, a reload by file change
/// (a valid and an invalid one), and SIGTERM in the middle of a large initial load.
@Suite struct DaemonTests {
    /// Ten subscriptions of one feed in the real daemon: the feed's host sees one request for
    /// their initial load, and one when all ten are triggered after the feed changed.
    @Test func tenSubscriptionsOfOneFeedMakeOneRequestPerRefresh() async throws {
        let bed = try Bed()
        let daemon = try DaemonProcess(bed: bed)
        try bed.nginx.put("holidays.ics", feed([match(1), match(2)]))
        let ids = (0..<10).map { "holidays-\($0)" }
        for id in ids { try daemon.subscribe(id, feed: "holidays.ics", collection: "/t/\(id)") }
        let base = try await daemon.start()
        #expect(
            try await eventually(60) {
                let all = try await daemonStatus(base)
                return ids.allSatisfy { all[$0]?["items"] as? Int == 2 }
            }, "all ten mirrored the feed")
        #expect(bed.nginx.requests("/holidays.ics") == [200], "one request for ten initial loads")

        try bed.nginx.put("holidays.ics", feed([match(1, summary: "Cup final"), match(2)]))
        // All ten at once, so their passes ask for the feed within the shared answer's window
        // however slowly the machine answers the triggers.
        let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
            for id in ids { group.addTask { try await call("POST", base + "/subscriptions/\(id)/sync").status } }
            return try await group.reduce(into: [Int]()) { $0.append($1) }
        }
        #expect(statuses == Array(repeating: 202, count: 10))
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
        let daemon = try DaemonProcess(bed: bed)
        let subs = daemon.subscriptions
        let write = { (id: String, feed: String, collection: String) in
            try daemon.subscribe(id, feed: feed, collection: collection)
        }
        try bed.nginx.put("small.ics", feed([match(1), match(2)]))
        try write("small", "small.ics", "/t/small")
        let base = try await daemon.start()
        let p = daemon.process
        // Its log, to see when it has looked at a configuration change.
        let logged = daemon.logged
        let status = daemonStatus

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
        #expect(
            triggered.status == 202 && String(decoding: triggered.body, as: UTF8.self).contains("queued"),
            "\(triggered)")
        #expect(
            try await eventually(30) { try await bed.summaries("/t/small")["match-1@club"] == "Final" },
            "the trigger ran a pass")
        let metrics = String(decoding: try await call("GET", base + "/metrics").body, as: UTF8.self)
        #expect(metrics.contains("outboard_passes_total{subscription=\"small\",result=\"applied\"} 2"), "\(metrics)")
        #expect(metrics.contains("outboard_items_total{subscription=\"small\",change=\"updated\"} 1"))
        #expect(metrics.contains("outboard_queue_lag_seconds_count 2"))

        // An invalid change is refused whole and the old configuration keeps running: a broken
        // file and a valid new one arrive together; once the daemon says it refused the change,
        // the valid new subscription is not running either.
        try "source: [\n".write(to: subs.appendingPathComponent("broken.yaml"), atomically: true, encoding: .utf8)
        try write("extra", "small.ics", "/t/extra")
        #expect(try await eventually(30) { logged("reload refused") }, "the daemon looked at the change and refused it")
        #expect(try await status(base).keys.sorted() == ["small"], "nothing of a refused change is loaded")
        try FileManager.default.removeItem(at: subs.appendingPathComponent("broken.yaml"))
        try FileManager.default.removeItem(at: subs.appendingPathComponent("extra.yaml"))

        // A valid change is picked up without a signal: a large feed, whose initial load is then
        // interrupted by SIGTERM. Its writes go through a gateway that passes the first batch and
        // holds the next ones until the daemon has had half a second to take the signal in, so
        // the load is mid-way however fast engine and target are.
        let big = FeedGenerator(events: 1200, seed: 5).text()
        try bed.nginx.put("big.ics", Array(big.utf8))
        let gateway = try await WriteGateway.start(forwardingTo: bed.target.endpoint, .gate(after: 1))
        defer { gateway.stop() }
        try daemon.subscribe("big", feed: "big.ics", collection: "/t/big", through: gateway.endpoint)
        #expect(
            try await eventually(30) { try await status(base)["big"] != nil }, "the new subscription file was loaded")
        #expect(try await eventually(60) { gateway.waiting > 0 }, "the second batch waits at the gate")
        kill(p.processIdentifier, SIGTERM)
        try await Task.sleep(nanoseconds: 500_000_000)
        gateway.open()
        let stopped = try await eventually(120) { !p.isRunning }
        #expect(stopped, "SIGTERM stops the daemon once the current batch is committed")
        #expect(p.terminationStatus == 0)

        // Everything the target acknowledged is recorded, and only that; the validators wait.
        let onTarget = try await bed.client.list(collection: "/t/big")
        let recorded = try bed.store.items("big")
        let items = ItemGrouper.items(from: try ICalParser().parse(big)).items.count
        #expect(
            onTarget.count > 0 && onTarget.count < items, "stopped mid-pass (\(onTarget.count) of \(items) written)")
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
        let r = await SyncPass(
            subscription: s, filters: FilterPipeline([]), store: bed.store, target: bed.calws, source: FeedFetcher()
        ).run()
        #expect(r.succeeded && r.added.count == items - onTarget.count, "\(String(describing: r.error))")
        #expect(try await bed.client.list(collection: "/t/big").count == items)
        daemon.stop()
    }
}
