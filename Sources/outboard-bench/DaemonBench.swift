import Engine
import EngineAdapters
import Foundation
import TestSupport

/// `outboard-bench daemon [subscriptions] [seconds]`: the real `outboard run` process with
/// 1,000 subscriptions (one-minute refresh) against nginx serving their feeds, 1% of which change
/// each minute. After the initial load, it measures a window (default five minutes): how late
/// each pass started after its due time (the daemon's queue-lag histogram), the daemon's CPU time
/// and its resident memory.
enum DaemonBench {
    static func run(subscriptions n: Int, seconds window: Double) async throws {
        let nginx = try NginxProcess.start()
        let target = try TargetProcess.start(environmentToken: "bench")
        defer {
            nginx.stop()
            target.stop()
        }
        let dir = TargetProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let subs = dir.appendingPathComponent("Subscriptions")
        let filters = dir.appendingPathComponent("Filters")
        let state = dir.appendingPathComponent("state")
        for d in [subs, filters] { try FileManager.default.createDirectory(at: d, withIntermediateDirectories: true) }
        var feeds = try subscribe(n, nginx: nginx, target: target, in: subs)
        let p = try startDaemon(subscriptions: subs, filters: filters, state: state)
        defer {
            if p.isRunning {
                kill(p.processIdentifier, SIGTERM)
                p.waitUntilExit()
            }
        }
        let pid = p.processIdentifier
        print("daemon: \(n) subscriptions, refresh 1 minute, feeds of 10 events on nginx, `outboard run` pid \(pid)")

        guard let base = try await initialLoad(n, daemon: p, state: state) else { return }

        // The window.
        let lag0 = try await lagBuckets(base)
        let cpu0 = cpuSeconds(pid)
        let notModified0 = try await passes(base, "not-modified")
        let applied0 = try await passes(base, "applied")
        let t0 = Date()
        var peakRSS = 0.0
        var changedFeeds = 0
        var minute = -1
        while Date().timeIntervalSince(t0) < window {
            let m = Int(Date().timeIntervalSince(t0) / 60)
            if m != minute {
                // 1% of the feeds change one event each minute.
                minute = m
                changedFeeds += try change(&feeds, minute: m, nginx: nginx)
            }
            peakRSS = max(peakRSS, residentMB(pid))
            try await Task.sleep(nanoseconds: 1_000_000_000)
        }
        let elapsed = Date().timeIntervalSince(t0)
        let cpu = cpuSeconds(pid) - cpu0
        let lag1 = try await lagBuckets(base)
        let lag = lag1.merging(lag0) { $0 - $1 }
        let total = lag["+Inf"] ?? 0
        let notModified = try await passes(base, "not-modified") - notModified0
        let applied = try await passes(base, "applied") - applied0
        print(
            String(
                format: "window: %.0f s, %.0f passes (%.0f not modified, %.0f applied changes; %d feeds were changed)",
                elapsed, total, notModified, applied, changedFeeds))
        print(
            String(
                format:
                    "started within 0.5 s of due: %.1f%%, within 1 s: %.1f%%, within 5 s: %.1f%% (goal: all within 5 s)",
                100 * (lag["0.5"] ?? 0) / max(total, 1), 100 * (lag["1.0"] ?? 0) / max(total, 1),
                100 * (lag["5.0"] ?? 0) / max(total, 1)))
        print(
            String(
                format: "CPU: %.1f s in %.0f s = %.1f%% of one core (goal under 10%%)", cpu, elapsed,
                100 * cpu / elapsed))
        print(
            String(
                format:
                    "memory: %.0f MB resident at most during the window, %.0f MB peak including the initial load (goal under 200 MB)",
                peakRSS, peakMB(pid)))
    }

    /// The real `outboard run` on the benchmark's folders, its control endpoint on a free port.
    /// With `store`, an engine on that shared store.
    static func startDaemon(subscriptions subs: URL, filters: URL, state: URL, store: String? = nil) throws -> Process {
        let p = Process()
        p.executableURL = TargetProcess.executable.deletingLastPathComponent().appendingPathComponent("outboard")
        p.arguments =
            [
                "run", "--subscriptions", subs.path, "--filters", filters.path, "--state", state.path, "--listen",
                "127.0.0.1:0",
            ] + (store.map { ["--store", $0] } ?? [])
        p.environment = ProcessInfo.processInfo.environment.merging([
            "T": "bench", "OUTBOARD_CONTROL_TOKEN": "bench", "LOG_LEVEL": "error",
        ]) { $1 }
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        return p
    }

    /// `n` feeds of `events` events on nginx and a subscription of each, refreshed every
    /// `refresh`; returns the feeds' texts.
    static func subscribe(
        _ n: Int, nginx: NginxProcess, target: TargetProcess, in subs: URL, events: Int = 10, refresh: String = "1m"
    ) throws -> [String] {
        var feeds: [String] = []
        for i in 0..<n {
            let text = FeedGenerator(events: events, seed: UInt64(i + 1)).text()
            feeds.append(text)
            try nginx.put("f\(i).ics", Array(text.utf8))
            try
                "source:\n  url: \(nginx.url("f\(i).ics"))\nrefresh: \(refresh)\ntarget:\n  url: \(target.endpoint)\n  collection: /bench/c\(i)\n  token-env: T\n"
                .write(to: subs.appendingPathComponent("s\(i).yaml"), atomically: true, encoding: .utf8)
        }
        return feeds
    }

    /// Waits for the daemon's control URL and for every subscription to be synced once; returns
    /// the URL, or nil (said) when the load does not complete.
    static func initialLoad(_ n: Int, daemon p: Process, state: URL) async throws -> String? {
        let started = Date()
        var base = ""
        while base.isEmpty, Date().timeIntervalSince(started) < 30 {
            base =
                (try? String(contentsOf: state.appendingPathComponent("control-url"), encoding: .utf8))?
                .trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
            try await Task.sleep(nanoseconds: 100_000_000)
        }
        while try await passes(base, "applied") < Double(n) {
            guard p.isRunning, Date().timeIntervalSince(started) < 1200 else {
                print(
                    "the initial load did not complete: \(try await passes(base, "applied")) of \(n) subscriptions applied, \(try await passes(base, "failed")) failed passes"
                )
                return nil
            }
            try await Task.sleep(nanoseconds: 1_000_000_000)
        }
        print(
            String(
                format: "initial load of %d subscriptions (%d items): %.1f s", n, n * 10,
                Date().timeIntervalSince(started)))
        return base
    }

    /// 1% of the feeds change one event (in minute `m`); returns how many changed.
    static func change(_ feeds: inout [String], minute m: Int, nginx: NginxProcess) throws -> Int {
        let n = feeds.count
        let count = max(1, n / 100)
        for k in 0..<count {
            let i = (m * 7919 + k * 104_729) % n
            if let r = feeds[i].range(of: "\r\nSEQUENCE:") {
                feeds[i].replaceSubrange(r, with: "\r\nCOMMENT:minute \(m)\r\nSEQUENCE:")
            }
            try nginx.put("f\(i).ics", Array(feeds[i].utf8))
        }
        return count
    }

    static func metrics(_ base: String) async throws -> String { try await get(base + "/metrics") }

    /// A GET of the daemon's control endpoint, with the benchmark's token.
    static func get(_ url: String) async throws -> String {
        let r = try await CurlHTTPClient().send(
            HTTPRequest(
                url: url, headers: [("Authorization", "Bearer bench")], connectTimeout: 5, timeout: 30,
                maxResponseBytes: 1 << 26, maxRedirects: 0))
        return String(decoding: r.body, as: UTF8.self)
    }

    /// The sum of `outboard_passes_total` for one result, over every subscription.
    static func passes(_ base: String, _ result: String) async throws -> Double {
        try await metrics(base).split(separator: "\n").filter {
            $0.hasPrefix("outboard_passes_total{") && $0.contains("result=\"\(result)\"")
        }
        .compactMap { $0.split(separator: " ").last.flatMap { Double($0) } }.reduce(0, +)
    }

    /// The queue-lag histogram's cumulative bucket counts by upper bound.
    static func lagBuckets(_ base: String) async throws -> [String: Double] {
        var out: [String: Double] = [:]
        for line in try await metrics(base).split(separator: "\n")
        where line.hasPrefix("outboard_queue_lag_seconds_bucket{le=\"") {
            let le = line.split(separator: "\"")[1]
            out[String(le)] = line.split(separator: " ").last.flatMap { Double($0) }
        }
        return out
    }

    /// User + system CPU seconds of a process (/proc/PID/stat, clock ticks of 1/100 s).
    static func cpuSeconds(_ pid: Int32) -> Double {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { return 0 }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        return (Double(fields[11]) ?? 0) / 100 + (Double(fields[12]) ?? 0) / 100
    }

    static func status(_ pid: Int32, _ key: String) -> Double {
        let s = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? ""
        guard let line = s.split(separator: "\n").first(where: { $0.hasPrefix(key + ":") }) else { return 0 }
        return (Double(line.split(separator: " ").dropFirst().first ?? "") ?? 0) / 1024
    }

    static func residentMB(_ pid: Int32) -> Double { status(pid, "VmRSS") }
    static func peakMB(_ pid: Int32) -> Double { status(pid, "VmHWM") }
}
