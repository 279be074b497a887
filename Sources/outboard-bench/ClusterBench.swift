import Foundation
import TestSupport

/// `outboard-bench cluster [subscriptions] [seconds] [lease]`: three real `outboard run`
/// engines on this machine sharing 10,000 subscriptions (small feeds on nginx, a five-minute
/// refresh unless `OUTBOARD_BENCH_REFRESH` says otherwise, 1% of the feeds changing each
/// minute) through a PostgreSQL server started here. After the initial load it measures a window (default five minutes, one refresh of everything): the
/// queue lag of every pass on every engine, passes per second, each engine's CPU and memory. Then
/// it kills one engine (SIGKILL) while it holds leases and measures the time until every one of
/// those subscriptions has been taken over by the others and run again.
enum ClusterBench {
    static func run(subscriptions n: Int, seconds window: Double, lease: Int) async throws {
        let postgres = try PostgresProcess.start()
        let nginx = try NginxProcess.start()
        let target = try TargetProcess.start(environmentToken: "bench")
        defer {
            nginx.stop()
            target.stop()
            postgres.remove()
        }
        let store = try postgres.newDatabase() + "?lease=\(lease)"
        let database = String(store.split(separator: "/").last!.split(separator: "?")[0])
        let dir = TargetProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let subs = dir.appendingPathComponent("Subscriptions")
        let filters = dir.appendingPathComponent("Filters")
        for d in [subs, filters] { try FileManager.default.createDirectory(at: d, withIntermediateDirectories: true) }
        // OUTBOARD_BENCH_REFRESH: another refresh interval (a duration, as in a subscription).
        let refresh = ProcessInfo.processInfo.environment["OUTBOARD_BENCH_REFRESH"] ?? "5m"
        var feeds = try DaemonBench.subscribe(n, nginx: nginx, target: target, in: subs, events: 5, refresh: refresh)
        var engines: [(process: Process, state: URL)] = []
        for e in 0..<3 {
            let state = dir.appendingPathComponent("state\(e)")
            let p = try DaemonBench.startDaemon(subscriptions: subs, filters: filters, state: state, store: store)
            engines.append((p, state))
        }
        defer {
            for e in engines where e.process.isRunning {
                kill(e.process.processIdentifier, SIGTERM)
                e.process.waitUntilExit()
            }
        }
        print(
            "cluster: \(n) subscriptions, refresh \(refresh), feeds of 5 events on nginx, 3 engines (pids \(engines.map { String($0.process.processIdentifier) }.joined(separator: ", "))), PostgreSQL \(postgres.port), lease \(lease) s"
        )

        guard let bases = try await initialLoad(n, engines: engines) else { return }
        try await measureWindow(
            window, bases: bases, pids: engines.map(\.process.processIdentifier), feeds: &feeds, nginx: nginx)
        try await measureTakeover(
            bases: bases, engine0: engines[0].process, postgres: postgres, database: database, lease: lease)
    }

    /// Waits for each engine's control URL and for every subscription's first pass; returns the
    /// URLs, or nil (said) when the load does not complete.
    static func initialLoad(_ n: Int, engines: [(process: Process, state: URL)]) async throws -> [String]? {
        let started = Date()
        var bases: [String] = []
        for e in engines {
            var base = ""
            while base.isEmpty, Date().timeIntervalSince(started) < 60 {
                base =
                    (try? String(contentsOf: e.state.appendingPathComponent("control-url"), encoding: .utf8))?
                    .trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
                if base.isEmpty { try await Task.sleep(nanoseconds: 100_000_000) }
            }
            bases.append(base)
        }
        func applied() async throws -> Double {
            var sum = 0.0
            for b in bases { sum += try await DaemonBench.passes(b, "applied") }
            return sum
        }
        while try await applied() < Double(n) {
            guard engines.allSatisfy({ $0.process.isRunning }), Date().timeIntervalSince(started) < 3600 else {
                print("the initial load did not complete: \(try await applied()) of \(n) subscriptions applied")
                return nil
            }
            try await Task.sleep(nanoseconds: 1_000_000_000)
        }
        print(String(format: "initial load of %d subscriptions: %.1f s", n, Date().timeIntervalSince(started)))
        return bases
    }

    /// The window: passes, their lag, and each engine's CPU and memory while 1% of the feeds
    /// change each minute.
    static func measureWindow(
        _ window: Double, bases: [String], pids: [Int32], feeds: inout [String], nginx: NginxProcess
    ) async throws {
        var lag0: [String: Double] = [:]
        for b in bases { lag0.merge(try await DaemonBench.lagBuckets(b)) { $0 + $1 } }
        let cpu0 = pids.map(DaemonBench.cpuSeconds)
        var passes0 = 0.0
        for b in bases { passes0 += try await total(b) }
        let t0 = Date()
        var peak = [Double](repeating: 0, count: 3)
        var minute = -1
        while Date().timeIntervalSince(t0) < window {
            let m = Int(Date().timeIntervalSince(t0) / 60)
            if m != minute {
                minute = m
                _ = try DaemonBench.change(&feeds, minute: m, nginx: nginx)
            }
            for (i, pid) in pids.enumerated() { peak[i] = max(peak[i], DaemonBench.residentMB(pid)) }
            try await Task.sleep(nanoseconds: 1_000_000_000)
        }
        let elapsed = Date().timeIntervalSince(t0)
        var lag1: [String: Double] = [:]
        var passes1 = 0.0
        for b in bases {
            lag1.merge(try await DaemonBench.lagBuckets(b)) { $0 + $1 }
            passes1 += try await total(b)
        }
        let lag = lag1.merging(lag0) { $0 - $1 }
        let count = lag["+Inf"] ?? 0
        print(
            String(
                format: "window: %.0f s, %.0f passes, %.1f passes/s over the three engines", elapsed, passes1 - passes0,
                (passes1 - passes0) / elapsed))
        print(
            "queue lag (from the engines' histograms): p50 \(quantile(lag, 0.5, of: count)), p99 \(quantile(lag, 0.99, of: count)) (goal: p99 under 1 s)"
        )
        for (i, pid) in pids.enumerated() {
            let cpu = DaemonBench.cpuSeconds(pid) - cpu0[i]
            print(
                String(
                    format:
                        "engine %d: CPU %.1f s = %.1f%% of one core (goal under 10%%), memory %.0f MB at most (goal under 100 MB)",
                    i, cpu, 100 * cpu / elapsed, peak[i]))
        }
    }

    /// Kills engine 0 while it holds leases and measures the time until each of those
    /// subscriptions has run again on the others.
    static func measureTakeover(
        bases: [String], engine0: Process, postgres: PostgresProcess, database: String, lease: Int
    ) async throws {
        // A takeover: engine 0 dies while it holds leases. Its leases are read after its death
        // (its rows keep the owner until another engine claims them): one read before might name
        // a subscription whose pass ended meanwhile, which no one takes over.
        let name = try await engineName(bases[0])
        let wait = Date()
        while try leases(postgres, database, of: name).isEmpty, Date().timeIntervalSince(wait) < 330 {
            try await Task.sleep(nanoseconds: 20_000_000)
        }
        kill(engine0.processIdentifier, SIGKILL)
        engine0.waitUntilExit()
        let killed = Date()
        let held = try leases(postgres, database, of: name)
        guard !held.isEmpty else {
            print("engine 0 held no lease when it was killed: no takeover measured")
            return
        }
        // Each of its subscriptions runs again once another engine has taken it over and its
        // pass succeeded.
        let list = held.map { "'\($0)'" }.joined(separator: ",")
        while Date().timeIntervalSince(killed) < Double(lease) * 4 + 60 {
            let left = try postgres.psql(
                "SELECT count(*) FROM feed WHERE subscription IN (\(list)) AND coalesce(last_success, '-infinity') < to_timestamp(\(killed.timeIntervalSince1970))",
                database: database)
            if left.trimmingCharacters(in: .whitespacesAndNewlines) == "0" { break }
            try await Task.sleep(nanoseconds: 50_000_000)
        }
        let takeover = Date().timeIntervalSince(killed)
        var takeovers = 0.0
        for b in bases.dropFirst() { takeovers += try await counter(b, "outboard_lease_takeovers_total") }
        print(
            String(
                format:
                    "takeover: engine 0 killed holding %d lease(s); all of them run again by the others %.1f s later (%.0f takeovers counted; goal under the lease time + 5 s = %d s)",
                held.count, takeover, takeovers, lease + 5))
    }

    static func leases(_ postgres: PostgresProcess, _ database: String, of engine: String) throws -> [String] {
        try postgres.psql("SELECT subscription FROM feed WHERE lease_owner = '\(engine)'", database: database)
            .split(separator: "\n").map(String.init)
    }

    static func engineName(_ base: String) async throws -> String {
        let json =
            try JSONSerialization.jsonObject(with: Data(try await DaemonBench.get(base + "/status").utf8))
            as? [String: Any]
        return (json?["cluster"] as? [String: Any])?["engine"] as? String ?? ""
    }

    /// Every pass the engine counted.
    static func total(_ base: String) async throws -> Double { try await counter(base, "outboard_passes_total") }

    static func counter(_ base: String, _ name: String) async throws -> Double {
        try await DaemonBench.metrics(base).split(separator: "\n").filter {
            $0.hasPrefix(name + "{") || $0.hasPrefix(name + " ")
        }
        .compactMap { $0.split(separator: " ").last.flatMap { Double($0) } }.reduce(0, +)
    }

    /// The histogram bucket (its upper bound) within which the `q` quantile of `count` passes lies.
    static func quantile(_ buckets: [String: Double], _ q: Double, of count: Double) -> String {
        let sorted = buckets.compactMap { key, n in Double(key).map { (bound: $0, key: key, n: n) } }.sorted {
            $0.bound < $1.bound
        }
        guard count > 0 else { return "(no pass)" }
        for b in sorted where b.n >= q * count {
            return b.bound.isInfinite ? "over \(sorted.dropLast().last?.key ?? "?") s" : "≤ \(b.key) s"
        }
        return "?"
    }
}
