import CalendarModel
import Engine
import EngineAdapters
import Filters
import Foundation
import TestSupport

/// `outboard-bench sync`: end to end over real HTTP — nginx serving the generated 10,000-event
/// feed, the engine, and `outboard-target` — for an initial load, an unchanged re-poll, and a
/// re-poll with 1% of the events changed.
enum SyncBench {
    static func run(events: Int) async throws {
        let nginx = try NginxProcess.start()
        // OUTBOARD_BENCH_TARGET_ARGS: more arguments for `outboard-target serve` (such as
        // `--index-horizon 0:0`, to measure what the instance index costs a load).
        let targetArguments =
            ProcessInfo.processInfo.environment["OUTBOARD_BENCH_TARGET_ARGS"].map {
                $0.split(separator: " ").map(String.init)
            } ?? []
        let target = try TargetProcess.start(environmentToken: "bench", arguments: targetArguments)
        defer {
            nginx.stop()
            target.stop()
        }
        let state = TargetProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: state) }
        let store = try StatusStore(directory: state.path)
        let text = FeedGenerator(events: events).text()
        try nginx.put("bench.ics", Array(text.utf8))
        var syncPass = try benchPass(feed: nginx.url("bench.ics"), target: target.endpoint, store: store)
        let sub = syncPass.subscription
        let environment = ProcessInfo.processInfo.environment
        var peaks: [Double] = []
        var cpu: [(engine: Double, target: Double)] = []
        func pass() async -> (SyncReport, Double) {
            // The peak resident memory of the pass alone: the kernel's high-water mark is reset
            // before it (clear_refs 5) and read after it; what the benchmark itself holds (the
            // feed's text) is resident throughout and counted too.
            // What the benchmark itself freed (making the changed feed) is given back first, so
            // that it does not count as the pass's.
            releaseFreeMemory()
            try? "5".write(toFile: "/proc/self/clear_refs", atomically: false, encoding: .utf8)
            let engine0 = DaemonBench.cpuSeconds(getpid())
            let target0 = DaemonBench.cpuSeconds(target.process.processIdentifier)
            let t0 = DispatchTime.now().uptimeNanoseconds
            let r = await syncPass.run()
            let ms = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e6
            peaks.append(DaemonBench.peakMB(getpid()))
            cpu.append(
                (
                    DaemonBench.cpuSeconds(getpid()) - engine0,
                    DaemonBench.cpuSeconds(target.process.processIdentifier) - target0
                ))
            return (r, ms)
        }
        print(
            String(
                format: "sync: %d events (%.1f MB) from nginx into outboard-target over 127.0.0.1", events,
                Double(text.utf8.count) / 1e6))
        let (initial, t1) = await pass()
        print(
            String(
                format: "initial load: %.0f ms, %d items added, %d failed%@ (goal 3,000 ms)", t1, initial.added.count,
                initial.failed.count,
                initial.error.map { ", error: \($0)" } ?? ""))
        let (unchanged, t2) = await pass()
        print(
            String(
                format: "unchanged re-poll: %.1f ms (%@; goal 20 ms)", t2,
                unchanged.notModified ? "304 Not Modified" : "not a 304"))
        // 1% of the events gain a COMMENT.
        try nginx.put("bench.ics", onePercentChanged(text))
        if environment["OUTBOARD_BENCH_PAUSE"] != nil {
            // Time to attach a profiler to this process for the 1% pass alone.
            FileHandle.standardError.write(Data("pausing 3 s before the 1% pass (pid \(getpid()))\n".utf8))
            try await Task.sleep(for: .seconds(3))
        }
        let (onePercent, t3) = await pass()
        print(
            String(
                format: "1%% changed re-poll: %.0f ms, %d items updated (%d field edits), %d unchanged (goal 300 ms)",
                t3,
                onePercent.updated.count, onePercent.updated.reduce(0) { $0 + $1.edits }, onePercent.unchanged))
        try await downloadAlone(sub)
        if let n = environment["OUTBOARD_BENCH_REPEAT"].flatMap(Int.init), n > 0 {
            try await repeatOnePercent(n, text: text, nginx: nginx, pass: pass)
        }
        printUsage(cpu: cpu, peaks: peaks, feedBytes: text.utf8.count)
    }

    /// The benchmark's subscription and its pass; OUTBOARD_BENCH_BATCH and
    /// OUTBOARD_BENCH_IN_FLIGHT try other batch settings than the pass's.
    static func benchPass(feed: String, target: String, store: StatusStore) throws -> SyncPass {
        let yaml =
            "source:\n  url: \(feed)\ntarget:\n  url: \(target)\n  collection: /bench/sync\n  token-env: T\n"
        let sub = try SubscriptionLoader.load(
            id: "bench", text: yaml, file: "bench.yaml", filters: [:], environment: ["T": "bench"]
        ).get()
        var syncPass = SyncPass(
            subscription: sub, filters: FilterPipeline([]), store: store,
            target: CalWSTarget(endpoint: target, token: "bench"), source: FeedFetcher())
        syncPass.releaseMemory = releaseFreeMemory
        let environment = ProcessInfo.processInfo.environment
        if let n = environment["OUTBOARD_BENCH_BATCH"].flatMap(Int.init) { syncPass.batchSize = n }
        if let n = environment["OUTBOARD_BENCH_IN_FLIGHT"].flatMap(Int.init) { syncPass.batchesInFlight = n }
        return syncPass
    }

    /// The CPU and peak memory of the three passes.
    static func printUsage(cpu: [(engine: Double, target: Double)], peaks: [Double], feedBytes: Int) {
        print(
            String(
                format:
                    "CPU seconds used (engine / target): initial load %.2f / %.2f, unchanged %.2f / %.2f, 1%% changed %.2f / %.2f",
                cpu[0].engine, cpu[0].target, cpu[1].engine, cpu[1].target, cpu[2].engine, cpu[2].target))
        print(
            String(
                format:
                    "peak resident memory during each pass: initial load %.0f MB, unchanged %.0f MB, 1%% changed %.0f MB (goal 150 MB; the benchmark's own copy of the feed's text, %.0f MB, is included)",
                peaks[0], peaks[1], peaks[2], Double(feedBytes) / 1e6))
    }

    /// The fetch alone, for scale: nginx gzips the feed on each request, curl inflates it.
    static func downloadAlone(_ sub: Subscription) async throws {
        var fetches: [Double] = []
        for _ in 0..<5 {
            let t0 = DispatchTime.now().uptimeNanoseconds
            _ = try await FeedFetcher().fetch(sub)
            fetches.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e6)
        }
        fetches.sort()
        print(
            String(
                format:
                    "of which the feed's download alone (nginx gzips the 16 MB on each request, curl inflates it): median of 5 %.0f ms",
                fetches[2]))
    }

    /// OUTBOARD_BENCH_REPEAT=N: N more 1% passes, the feed changing back and forth (each time the
    /// same 100 events change), for the spread of a noisy machine.
    static func repeatOnePercent(
        _ n: Int, text: String, nginx: NginxProcess, pass: () async -> (SyncReport, Double)
    ) async throws {
        var times: [Double] = []
        let changed = onePercentChanged(text)
        for i in 0..<n {
            try nginx.put("bench.ics", i % 2 == 0 ? Array(text.utf8) : changed)
            let (r, t) = await pass()
            guard r.error == nil, r.updated.count == 100 else {
                print("repeat \(i): \(r.error ?? "\(r.updated.count) updated")")
                break
            }
            times.append(t)
        }
        times.sort()
        guard !times.isEmpty else { return }
        print(
            String(
                format: "1%% changed re-poll, %d more: fastest %.0f ms, median %.0f ms, slowest %.0f ms",
                times.count, times[0], times[times.count / 2], times[times.count - 1]))
    }

    /// The feed with every hundredth event given a COMMENT.
    static func onePercentChanged(_ text: String) -> [UInt8] {
        var changed = ""
        changed.reserveCapacity(text.utf8.count + 100_000)
        for line in text.split(separator: "\r\n", omittingEmptySubsequences: false) {
            changed += line
            if line.hasPrefix("UID:bench-"), let n = Int(line.dropFirst(10).prefix { $0.isNumber }), n % 100 == 0,
                line.hasSuffix("@outboard.test")
            {
                changed += "\r\nCOMMENT:changed"
            }
            changed += "\r\n"
        }
        changed.removeLast()
        return Array(changed.utf8)
    }
}
