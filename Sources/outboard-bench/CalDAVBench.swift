import CalendarModel
import Engine
import EngineAdapters
import Filters
import Foundation
import TestSupport

/// `outboard-bench caldav [N]`: CalDAV at both ends against a real Radicale over 127.0.0.1.
///
/// 1. A generated feed of N events (nginx) into a Radicale collection: the initial load, 1% of the
///    events changed, then nothing changed; each with its wall time and the requests the engine
///    sent by kind, with their bytes.
/// 2. The floor: the same N events PUT straight into a fresh collection, four at a time, with no
///    engine at all (Radicale's own write time); and vdirsyncer 0.21 syncing the same feed into
///    another fresh collection, in the same run.
/// 3. The Radicale collection as a source into `outboard-target`: the initial load, then 1% of its
///    members changed on the server.
enum CalDAVBench {
    /// The requests one client sent, by method: how many, bytes sent (bodies) and received.
    final class Tally: @unchecked Sendable {
        // Unchecked: `counts` is read and written under `lock`.
        private let lock = NSLock()
        private var counts: [String: (requests: Int, sent: Int, received: Int)] = [:]

        var client: CurlHTTPClient {
            CurlHTTPClient { [self] request, response in
                lock.withLock {
                    var c = counts[request.method, default: (0, 0, 0)]
                    c.requests += 1
                    c.sent += request.body?.count ?? 0
                    c.received += response?.body.count ?? 0
                    counts[request.method] = c
                }
            }
        }

        /// What was counted since the last call, as "PUT 10 (4.1 kB out, 0 kB in)", and the total
        /// number of requests.
        func take() -> (text: String, requests: Int) {
            let now = lock.withLock {
                defer { counts = [:] }
                return counts
            }
            let text = now.sorted { $0.key < $1.key }.map { method, c in
                String(
                    format: "%@ %d (%.1f kB out, %.1f kB in)", method, c.requests, Double(c.sent) / 1e3,
                    Double(c.received) / 1e3)
            }.joined(separator: ", ")
            return (text.isEmpty ? "no request" : text, now.values.reduce(0) { $0 + $1.requests })
        }
    }

    static func run(events: Int) async throws {
        let nginx = try NginxProcess.start()
        let radicale = try CalDAVServerProcess.start(.radicale)
        let target = try TargetProcess.start(environmentToken: "bench")
        defer {
            nginx.stop()
            radicale.stop()
            target.stop()
        }
        let text = FeedGenerator(events: events).text()
        try nginx.put("bench.ics", Array(text.utf8))
        let dir = TargetProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let secret = dir.appendingPathComponent("password")
        try CalDAVServerProcess.password.write(to: secret, atomically: true, encoding: .utf8)
        try radicale.send("MKCOL", "/outboard/")
        print("caldav: \(events) generated events, nginx and Radicale 3.9 (and outboard-target) on 127.0.0.1")

        // 1. The feed into Radicale.
        let tally = Tally()
        let intoRadicale = try SubscriptionLoader.load(
            id: "into",
            text: """
                source:
                  url: \(nginx.url("bench.ics"))
                target:
                  type: caldav
                  url: \(radicale.base)/outboard/bench/
                  auth: { type: basic, username: \(CalDAVServerProcess.user), password-file: \(secret.path) }
                """, file: "into.yaml", filters: [:], environment: [:]
        ).get()
        let intoStore = try StatusStore(directory: dir.appendingPathComponent("into").path)
        let authorization =
            "Basic "
            + Data("\(CalDAVServerProcess.user):\(CalDAVServerProcess.password)".utf8)
            .base64EncodedString()
        func intoPass() async throws -> (SyncReport, Double) {
            guard
                let caldav = CalDAVTarget(
                    url: intoRadicale.targetURL, authorization: authorization, http: tally.client)
            else { throw BenchError("no CalDAV target") }
            let pass = SyncPass(
                subscription: intoRadicale, filters: FilterPipeline([]), store: intoStore, target: caldav,
                source: FeedFetcher(http: tally.client))
            return try await timed { await pass.run() }
        }
        let (initial, tInitial) = try await intoPass()
        let initialSent = tally.take()
        print(
            String(
                format: "feed into Radicale, initial load: %.0f ms, %d added, %d failed; %@", tInitial,
                initial.added.count, initial.failed.count, initialSent.text))
        try nginx.put("bench.ics", SyncBench.onePercentChanged(text))
        let (changed, tChanged) = try await intoPass()
        print(
            String(
                format: "feed into Radicale, 1%% changed: %.0f ms, %d updated; %@ (goal: one PUT per changed event)",
                tChanged, changed.updated.count, tally.take().text))
        let (_, tSame) = try await intoPass()
        print(
            String(
                format: "feed into Radicale, unchanged: %.1f ms; %@ (goal: one request)", tSame, tally.take().text))

        try await floors(
            text: text, feed: nginx.url("bench.ics"), radicale: radicale, dir: dir, initial: tInitial,
            authorization: authorization)
        try await fromRadicale(
            radicale, target: target, secret: secret, dir: dir, tally: tally, authorization: authorization)
    }

    /// 2. Radicale's own write time for the same events, and vdirsyncer doing the same sync,
    /// beside Outboard's initial load (`initial`, ms).
    static func floors(
        text: String, feed: String, radicale: CalDAVServerProcess, dir: URL, initial: Double, authorization: String
    ) async throws {
        let floor = try await radicaleFloor(text: text, radicale: radicale, authorization: authorization)
        print(
            String(
                format:
                    "Radicale alone (the same events PUT 4 at a time, no engine): %.0f ms; Outboard's initial load is %.2f times it",
                floor, initial / floor))
        guard let v = try vdirsyncer(feed: feed, radicale: radicale, in: dir) else {
            print("vdirsyncer: not in .venv (run bash .ci/setup); not compared")
            return
        }
        print(
            String(
                format: "vdirsyncer 0.21, the same feed into Radicale: %.0f ms; Outboard is %.1f times faster (goal 3)",
                v, v / initial))
    }

    /// 3. The Radicale collection the feed went into, as a source into `outboard-target`: the
    /// initial load, then 1% of its members changed on the server, then nothing changed.
    static func fromRadicale(
        _ radicale: CalDAVServerProcess, target: TargetProcess, secret: URL, dir: URL, tally: Tally,
        authorization: String
    ) async throws {
        let fromRadicale = try SubscriptionLoader.load(
            id: "from",
            text: """
                source:
                  type: caldav
                  url: \(radicale.base)/outboard/bench/
                  auth: { type: basic, username: \(CalDAVServerProcess.user), password-file: \(secret.path) }
                target: { url: \(target.endpoint), collection: /bench/from, token-env: T }
                """, file: "from.yaml", filters: [:], environment: ["T": "bench"]
        ).get()
        let fromStore = try StatusStore(directory: dir.appendingPathComponent("from").path)
        let source = CalDAVSource(http: tally.client)
        func fromPass() async throws -> (SyncReport, Double) {
            let pass = SyncPass(
                subscription: fromRadicale, filters: FilterPipeline([]), store: fromStore,
                target: CalWSTarget(endpoint: target.endpoint, token: "bench"), source: source)
            return try await timed { await pass.run() }
        }
        let (loaded, tLoaded) = try await fromPass()
        print(
            String(
                format: "Radicale into outboard-target, initial load: %.0f ms, %d added; to Radicale: %@", tLoaded,
                loaded.added.count, tally.take().text))
        let edited = try await editOnePercent(radicale: radicale, authorization: authorization)
        let (moved, tMoved) = try await fromPass()
        print(
            String(
                format:
                    "Radicale into outboard-target, %d members changed on the server: %.0f ms, %d updated; to Radicale: %@ (goal: one sync-collection, one multiget)",
                edited, tMoved, moved.updated.count, tally.take().text))
        let (_, tNone) = try await fromPass()
        print(
            String(
                format: "Radicale into outboard-target, unchanged: %.1f ms; to Radicale: %@ (goal: one REPORT)", tNone,
                tally.take().text))
    }

    static func timed<T>(_ body: () async throws -> T) async rethrows -> (T, Double) {
        let t0 = DispatchTime.now().uptimeNanoseconds
        let r = try await body()
        return (r, Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e6)
    }

    /// PUTs every item of the feed into a fresh collection, four at a time, with libcurl and no
    /// engine: how long Radicale itself takes to store them (ms).
    static func radicaleFloor(text: String, radicale: CalDAVServerProcess, authorization: String) async throws
        -> Double
    {
        try radicale.makeCalendar("/outboard/floor/")
        let items = ItemGrouper.items(from: try ICalParser().parse(Array(text.utf8))).items
        let bodies = items.map { (CalDAVTarget.name(for: $0.uid ?? $0.key), ICalWriter.write([$0.calendar()])) }
        let http = CurlHTTPClient()
        let (_, ms) = try await timed {
            try await withThrowingTaskGroup(of: Void.self) { group in
                for (i, (name, body)) in bodies.enumerated() {
                    if i >= 4 { try await group.next() }
                    group.addTask {
                        var r = HTTPRequest(
                            method: "PUT", url: "\(radicale.base)/outboard/floor/\(name)",
                            headers: [
                                ("Authorization", authorization), ("Content-Type", "text/calendar; charset=utf-8"),
                                ("If-None-Match", "*"),
                            ], body: body, connectTimeout: 10, timeout: 60, maxResponseBytes: 1 << 20, maxRedirects: 0)
                        r.userAgent = "outboard-bench"
                        _ = try await http.send(r)
                    }
                }
                try await group.waitForAll()
            }
        }
        return ms
    }

    /// vdirsyncer syncing the feed (an `http` storage) into a fresh Radicale collection (a
    /// `caldav` storage): the time of `discover` and `sync` together (ms); nil without vdirsyncer.
    static func vdirsyncer(feed: String, radicale: CalDAVServerProcess, in dir: URL) throws -> Double? {
        let executable = CalDAVServerProcess.venv.appendingPathComponent("bin/vdirsyncer")
        guard FileManager.default.isExecutableFile(atPath: executable.path) else { return nil }
        try radicale.makeCalendar("/outboard/vdirsyncer/")
        let config = dir.appendingPathComponent("vdirsyncer.conf")
        try """
        [general]
        status_path = "\(dir.appendingPathComponent("vdirsyncer-status").path)"

        [pair bench]
        a = "feed"
        b = "radicale"
        collections = null

        [storage feed]
        type = "http"
        url = "\(feed)"

        [storage radicale]
        type = "caldav"
        url = "\(radicale.base)/outboard/vdirsyncer/"
        username = "\(CalDAVServerProcess.user)"
        password = "\(CalDAVServerProcess.password)"

        """.write(to: config, atomically: true, encoding: .utf8)
        let t0 = DispatchTime.now().uptimeNanoseconds
        for arguments in [["discover", "bench"], ["sync", "bench"]] {
            let p = Process()
            p.executableURL = executable
            p.arguments = ["--config", config.path] + arguments
            p.standardOutput = FileHandle.nullDevice
            p.standardError = FileHandle.nullDevice
            p.standardInput = FileHandle.nullDevice
            try p.run()
            p.waitForExit()
            guard p.terminationStatus == 0 else {
                throw BenchError("vdirsyncer \(arguments[0]) exited \(p.terminationStatus)")
            }
        }
        return Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e6
    }

    /// Adds a COMMENT to every hundredth member of the collection, on the server; returns how
    /// many it changed.
    static func editOnePercent(radicale: CalDAVServerProcess, authorization: String) async throws -> Int {
        guard let caldav = CalDAVTarget(url: radicale.base, authorization: authorization) else { return 0 }
        let members = try await caldav.list(collection: "/outboard/bench", withData: true).sorted { $0.href < $1.href }
        var n = 0
        for (i, m) in members.enumerated() where i % 100 == 0 {
            guard var calendar = m.calendar, let e = calendar.components.firstIndex(where: { $0.name == "VEVENT" })
            else { continue }
            calendar.components[e].properties.append(ICalProperty("COMMENT", .text("changed on the server")))
            if try radicale.put(m.href, ICalWriter.write([calendar])) == 204 { n += 1 }
        }
        return n
    }

    struct BenchError: Error, CustomStringConvertible {
        var description: String
        init(_ description: String) { self.description = description }
    }
}
