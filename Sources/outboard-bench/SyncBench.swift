import CalendarModel
import Engine
import Filters
import Foundation
import TestSupport

/// `outboard-bench sync`: end to end over real HTTP — nginx serving the generated 10,000-event
/// feed, the engine, and `outboard-target` — for an initial load, an unchanged re-poll, and a
/// re-poll with 1% of the events changed.
enum SyncBench {
    static func run(events: Int) async throws {
        let nginx = try NginxProcess.start()
        let target = try TargetProcess.start(environmentToken: "bench")
        defer { nginx.stop(); target.stop() }
        let state = TargetProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: state) }
        let store = try StatusStore(directory: state.path)
        let text = FeedGenerator(events: events).text()
        try nginx.put("bench.ics", Array(text.utf8))
        let yaml = "source:\n  url: \(nginx.url("bench.ics"))\ntarget:\n  url: \(target.endpoint)\n  collection: /bench/sync\n  token-env: T\n"
        let sub = try SubscriptionLoader.load(id: "bench", text: yaml, file: "bench.yaml", filters: [:], environment: ["T": "bench"]).get()
        let client = TargetClient(endpoint: target.endpoint, token: "bench")
        func pass() async -> (SyncReport, Double) {
            let t0 = DispatchTime.now().uptimeNanoseconds
            let r = await SyncPass(subscription: sub, filters: FilterPipeline([]), store: store, target: client).run()
            return (r, Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e6)
        }
        print(String(format: "sync: %d events (%.1f MB) from nginx into outboard-target over 127.0.0.1", events, Double(text.utf8.count) / 1e6))
        let (initial, t1) = await pass()
        print(String(format: "initial load: %.0f ms, %d items added, %d failed%@ (goal 3,000 ms)", t1, initial.added.count, initial.failed.count,
                     initial.error.map { ", error: \($0)" } ?? ""))
        let (unchanged, t2) = await pass()
        print(String(format: "unchanged re-poll: %.1f ms (%@; goal 20 ms)", t2, unchanged.notModified ? "304 Not Modified" : "not a 304"))
        // 1% of the events change their SUMMARY.
        var changed = text
        for i in stride(from: 0, to: events, by: 100) {
            changed = changed.replacingOccurrences(of: "UID:bench-\(i)@outboard.test\r\n", with: "UID:bench-\(i)@outboard.test\r\nCOMMENT:changed\r\n")
        }
        try nginx.put("bench.ics", Array(changed.utf8))
        let (onePercent, t3) = await pass()
        print(String(format: "1%% changed re-poll: %.0f ms, %d items updated (%d field edits), %d unchanged (goal 300 ms)", t3,
                     onePercent.updated.count, onePercent.updated.reduce(0) { $0 + $1.edits }, onePercent.unchanged))
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        print(String(format: "peak memory of the engine process: %.0f MB (goal 150 MB)", Double(usage.ru_maxrss) / 1024))
    }
}
