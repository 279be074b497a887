import CalendarModel
import CalWS
import Engine
import EngineAdapters
import Foundation
import TestSupport

/// `outboard-bench availability`: the reference target's availability answers and what its
/// instance index costs. 50 collections of 1,000 generated events (about 15% recurring) are loaded
/// over CalWS-SOAP into the real `outboard-target`; then 1,000 `POST /availability` queries over
/// one kept-alive HTTP connection, each a week for a group of 10 members, required all, 30-minute
/// duration. The index's cost is the 10,000-event initial load with it and without it
/// (`serve --index-horizon 0:0`), alternated over rounds on fresh servers.
enum AvailabilityBench {
    static let token = "bench"
    static let eventsPerCollection = 1000

    static func run(collections: Int = 50, queries: Int = 1000, rounds: Int = 3) async throws {
        let now = Int64(Date().timeIntervalSince1970)
        let day0 = now - now % 86_400
        print(
            "availability: \(collections) collections of \(eventsPerCollection) events (about 15% recurring) in outboard-target over HTTP"
        )
        try await indexCost(rounds: rounds, day0: day0)

        // Every collection, then the queries.
        let target = try TargetProcess.start(environmentToken: token)
        defer { stop(target) }
        let loadSeconds = try await load(target, collections: 0..<collections, day0: day0)
        print(
            String(
                format: "loaded %d events into %d collections in %.2f s", collections * eventsPerCollection,
                collections, loadSeconds))
        if ProcessInfo.processInfo.environment["OUTBOARD_BENCH_PAUSE"] != nil {
            // Time to attach a profiler to the target for the queries alone.
            FileHandle.standardError.write(
                Data("pausing 3 s before the queries (target pid \(target.process.processIdentifier))\n".utf8))
            try await Task.sleep(for: .seconds(3))
        }
        try ask(target, queries: queries, collections: collections, day0: day0)
    }

    /// What the index costs an initial load of 10,000 events (batches of 100, as a pass sends
    /// them): fresh targets with and without it, alternating.
    static func indexCost(rounds: Int, day0: Int64) async throws {
        var with: [(wall: Double, cpu: Double)] = []
        var without: [(wall: Double, cpu: Double)] = []
        for round in 0..<rounds {
            for indexed in (round % 2 == 0 ? [true, false] : [false, true]) {
                let target = try TargetProcess.start(
                    environmentToken: token, arguments: indexed ? [] : ["--index-horizon", "0:0"])
                defer { stop(target) }
                let cpu0 = DaemonBench.cpuSeconds(target.process.processIdentifier)
                let seconds = try await load(target, collections: 0..<(10_000 / eventsPerCollection), day0: day0)
                let cpu = DaemonBench.cpuSeconds(target.process.processIdentifier) - cpu0
                if indexed { with.append((seconds, cpu)) } else { without.append((seconds, cpu)) }
            }
        }
        func runs(_ r: [(wall: Double, cpu: Double)]) -> String {
            r.map { String(format: "%.2f/%.2f", $0.wall, $0.cpu) }.joined(separator: " ")
        }
        let wall = (with.map(\.wall).min()!, without.map(\.wall).min()!)
        let cpu = (with.map(\.cpu).min()!, without.map(\.cpu).min()!)
        print(
            String(
                format:
                    "initial load of 10,000 events (multiOp batches of 100 straight to the target): %.2f s with the index, %.2f s without (%+.1f%%); the target's CPU %.2f s with, %.2f s without (%+.1f%%); best of %d each (wall/CPU of every run: with %@, without %@)",
                wall.0, wall.1, (wall.0 / wall.1 - 1) * 100, cpu.0, cpu.1, (cpu.0 / cpu.1 - 1) * 100, rounds,
                runs(with), runs(without)))
    }

    /// The queries, over one kept-alive connection: each a week for a group of 10 members,
    /// required all, 30 minutes; the first 20 warm the server and the connection.
    static func ask(_ target: TargetProcess, queries: Int, collections: Int, day0: Int64) throws {
        let connection = try CurlConnection()
        var random = SplitMix64(seed: 16)
        var latencies: [Double] = []
        var periods = 0
        for q in 0..<(queries + 20) {
            let members = pick(10, of: collections, &random).map { "\"/bench/c\($0)\"" }.joined(separator: ",")
            let start = day0 + Int64(random.next() % 56) * 86_400
            let body = """
                {"participants": [{"members": [\(members)], "required": "all"}],
                 "query_periods": [{"start": "\(rfc3339(start))", "end": "\(rfc3339(start + 7 * 86_400))"}],
                 "required_duration": "PT30M"}
                """
            let request = HTTPRequest(
                method: "POST", url: target.base + "/availability",
                headers: [("Authorization", "Bearer \(token)"), ("Content-Type", "application/json")],
                body: Array(body.utf8))
            let t0 = DispatchTime.now().uptimeNanoseconds
            let response = try connection.send(request)
            let ms = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e6
            guard response.status == 200,
                let json = try JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any],
                let available = json["available_periods"] as? [Any]
            else {
                throw BenchFailure(
                    "query \(q) answered \(response.status): \(String(decoding: response.body.prefix(300), as: UTF8.self))"
                )
            }
            if q >= 20 {
                latencies.append(ms)
                periods += available.count
            }
        }
        latencies.sort()
        print(
            String(
                format:
                    "%d queries (a week, 10 members, required all, PT30M; one kept-alive connection): p50 %.2f ms, p99 %.2f ms, max %.2f ms (goals: p50 under 3 ms, p99 under 10 ms); %.1f available periods per answer",
                latencies.count, latencies[latencies.count / 2], latencies[latencies.count * 99 / 100],
                latencies.last!, Double(periods) / Double(latencies.count)))
    }

    struct BenchFailure: Error, CustomStringConvertible {
        var description: String
        init(_ d: String) { description = d }
    }

    static func stop(_ target: TargetProcess) {
        target.stop()
        try? FileManager.default.removeItem(at: target.dataDirectory)
    }

    /// Loads the collections `/bench/cN`, 100 adds per multiOp (three in flight, as a pass sends
    /// them); returns the seconds it took.
    static func load(_ target: TargetProcess, collections: Range<Int>, day0: Int64) async throws -> Double {
        let client = TargetClient(endpoint: target.endpoint, token: token)
        var batches: [[CalWSRequest]] = []
        for c in collections {
            var random = SplitMix64(seed: UInt64(c + 1))
            let adds = (0..<eventsPerCollection).map { i in
                CalWSRequest(.addItem(href: "/bench/c\(c)", calendar: event(c, i, day0: day0, &random)))
            }
            batches += stride(from: 0, to: adds.count, by: 100).map { Array(adds[$0..<min($0 + 100, adds.count)]) }
        }
        let t0 = DispatchTime.now().uptimeNanoseconds
        try await withThrowingTaskGroup(of: Void.self) { group in
            var next = 0
            for _ in 0..<3 where next < batches.count {
                let b = batches[next]
                next += 1
                group.addTask { _ = try await client.multiOp(b) }
            }
            while try await group.next() != nil, next < batches.count {
                let b = batches[next]
                next += 1
                group.addTask { _ = try await client.multiOp(b) }
            }
            try await group.waitForAll()
        }
        return Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
    }

    /// `count` distinct numbers below `n`.
    static func pick(_ count: Int, of n: Int, _ random: inout SplitMix64) -> [Int] {
        var chosen: [Int] = []
        while chosen.count < min(count, n) {
            let c = Int(random.next() % UInt64(n))
            if !chosen.contains(c) { chosen.append(c) }
        }
        return chosen
    }

    static let berlin = [
        "BEGIN:VTIMEZONE", "TZID:Europe/Berlin", "BEGIN:STANDARD", "DTSTART:19701025T030000",
        "RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU", "TZOFFSETFROM:+0200", "TZOFFSETTO:+0100", "END:STANDARD",
        "BEGIN:DAYLIGHT", "DTSTART:19700329T020000", "RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU", "TZOFFSETFROM:+0100",
        "TZOFFSETTO:+0200", "END:DAYLIGHT", "END:VTIMEZONE",
    ]

    /// Event `i` of collection `c`: working-hours meetings from a week back to four months ahead,
    /// half an hour to three hours long; a third in Europe/Berlin with its VTIMEZONE; about 15%
    /// recurring (weekly, daily on weekdays, or every other week), some tentative, transparent or
    /// cancelled.
    static func event(_ c: Int, _ i: Int, day0: Int64, _ random: inout SplitMix64) -> ICalComponent {
        let day = day0 + (Int64(random.next() % 130) - 7) * 86_400
        let start = day + Int64(7 * 3600 + Int(random.next() % 40) * 900)
        let length = Int64(1 + random.next() % 6) * 1800
        let zoned = random.next() % 3 == 0
        func time(_ t: Int64) -> String {
            let s = rfc3339(zoned ? t + 3600 : t).filter { $0 != "-" && $0 != ":" }
            return zoned ? String(s.dropLast()) : s
        }
        let tz = zoned ? ";TZID=Europe/Berlin" : ""
        var lines = [
            "BEGIN:VEVENT", "UID:c\(c)-e\(i)@bench", "DTSTAMP:20260101T000000Z", "DTSTART\(tz):\(time(start))",
            "DTEND\(tz):\(time(start + length))", "SUMMARY:Meeting \(i) of calendar \(c)", "LOCATION:Room \(i % 40)",
        ]
        switch random.next() % 100 {
        case 0..<8: lines.append("RRULE:FREQ=WEEKLY;COUNT=\(4 + random.next() % 30)")
        case 8..<12: lines.append("RRULE:FREQ=DAILY;BYDAY=MO,TU,WE,TH,FR;COUNT=\(5 + random.next() % 40)")
        case 12..<15:
            lines.append(
                "RRULE:FREQ=WEEKLY;INTERVAL=2;UNTIL=\(rfc3339(start + 180 * 86_400).filter { $0 != "-" && $0 != ":" })")
        case 15..<20: lines.append("STATUS:TENTATIVE")
        case 20..<24: lines.append("TRANSP:TRANSPARENT")
        case 24..<26: lines.append("STATUS:CANCELLED")
        default: break
        }
        lines.append("END:VEVENT")
        let text =
            (["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Outboard//Bench//EN"] + (zoned ? berlin : []) + lines
            + ["END:VCALENDAR"]).joined(separator: "\r\n") + "\r\n"
        return try! ICalParser().parse(text).calendars[0]
    }

    static func rfc3339(_ t: Int64) -> String {
        let d = Date(timeIntervalSince1970: TimeInterval(t))
        let f = ISO8601DateFormatter()
        f.timeZone = TimeZone(identifier: "UTC")
        return f.string(from: d)
    }
}
