import CalendarModel
import CalWS
import EngineAdapters
import Foundation
import TestSupport

/// `outboard-bench caldav-server`: `outboard-target`'s CalDAV face against Radicale 3.9 serving the
/// same events in the same run. 50 collections of 1,000 generated events (the availability
/// benchmark's); then calendar-query with expand for one week over one collection and over ten
/// (a view on `outboard-target`, ten queries on Radicale, which has no views), free-busy-query over
/// the same, and an incremental sync-collection after 1% of a collection changed. Each request is
/// timed alone over a new connection; p50 and p99 are printed, Radicale's with fewer samples (it
/// expands on every request).
enum CalDAVServerBench {
    static let collections = 50

    static func run() async throws {
        let now = Int64(Date().timeIntervalSince1970)
        let day0 = now - now % 86_400
        let dir = TargetProcess.temporaryDirectory()
        let views = dir.appendingPathComponent("views.yaml")
        try "ten:\n  collections: [\((0..<10).map { "/bench/c\($0)" }.joined(separator: ", "))]\n  detail: full\n"
            .write(to: views, atomically: true, encoding: .utf8)
        let target = try TargetProcess.start(
            environmentToken: AvailabilityBench.token, arguments: ["--views", views.path])
        let radicale = try CalDAVServerProcess.start(.radicale)
        defer {
            AvailabilityBench.stop(target)
            radicale.stop()
        }
        print(
            "caldav-server: \(collections) collections of \(AvailabilityBench.eventsPerCollection) events, outboard-target and Radicale 3.9 on 127.0.0.1"
        )
        let loaded = try await AvailabilityBench.load(target, collections: 0..<collections, day0: day0)
        let radicaleSeconds = try await loadRadicale(radicale, day0: day0)
        print(
            String(
                format: "loaded: outboard-target %.1f s (CalWS multiOp), Radicale %.1f s (a whole-collection PUT each)",
                loaded, radicaleSeconds))

        let ours = Client(
            base: target.endpoint.replacingOccurrences(of: "/calws", with: ""), user: "bench",
            password: AvailabilityBench.token)
        let theirs = Client(base: radicale.base, user: CalDAVServerProcess.user, password: CalDAVServerProcess.password)
        let week = (Self.basic(day0), Self.basic(day0 + 7 * 86_400))
        let expand = """
            <c:calendar-query xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav"><d:prop><d:getetag/><c:calendar-data><c:expand start="\(week.0)" end="\(week.1)"/></c:calendar-data></d:prop><c:filter><c:comp-filter name="VCALENDAR"><c:comp-filter name="VEVENT"><c:time-range start="\(week.0)" end="\(week.1)"/></c:comp-filter></c:comp-filter></c:filter></c:calendar-query>
            """
        let freeBusy = """
            <c:free-busy-query xmlns:c="urn:ietf:params:xml:ns:caldav"><c:time-range start="\(week.0)" end="\(week.1)"/></c:free-busy-query>
            """
        try await compare(
            "calendar-query, expand, one week, one collection", ours: (200, ["/dav/bench/c0/"]),
            theirs: (20, ["/outboard/c0/"]), body: expand, ours, theirs)
        try await compare(
            "calendar-query, expand, one week, ten collections", ours: (200, ["/dav/@views/ten/"]),
            theirs: (5, (0..<10).map { "/outboard/c\($0)/" }), body: expand, ours, theirs)
        try await compare(
            "free-busy-query, one week, one collection", ours: (200, ["/dav/bench/c0/"]),
            theirs: (20, ["/outboard/c0/"]),
            body: freeBusy, ours, theirs)
        try await compare(
            "free-busy-query, one week, ten collections", ours: (200, ["/dav/@views/ten/"]),
            theirs: (5, (0..<10).map { "/outboard/c\($0)/" }), body: freeBusy, ours, theirs)

        // 1% of c0 changed on both, then sync-collection from the token before.
        let sync = { (token: String) in
            "<d:sync-collection xmlns:d=\"DAV:\"><d:sync-token>\(token)</d:sync-token><d:sync-level>1</d:sync-level><d:prop><d:getetag/></d:prop></d:sync-collection>"
        }
        let before = try await (ours.token("/dav/bench/c0/", sync("")), theirs.token("/outboard/c0/", sync("")))
        var random = SplitMix64(seed: 99)
        for i in stride(from: 0, to: AvailabilityBench.eventsPerCollection, by: 100) {
            var e = AvailabilityBench.event(0, i, day0: day0, &random)
            e.components[e.components.count - 1].properties.append(ICalProperty("COMMENT", .text("changed")))
            let body = ICalWriter.write([e])
            let name = "c0-e\(i)%40bench.ics"
            guard let uid = e.components.last?.uid, let ourHref = try await ours.href(of: uid, in: "/dav/bench/c0/")
            else {
                continue
            }
            _ = try await ours.send("PUT", ourHref, body, type: "text/calendar; charset=utf-8")
            _ = try await theirs.send("PUT", "/outboard/c0/\(name)", body, type: "text/calendar; charset=utf-8")
        }
        try await compare(
            "sync-collection after 1% changed", ours: (200, ["/dav/bench/c0/"]), theirs: (20, ["/outboard/c0/"]),
            bodies: (sync(before.0), sync(before.1)), ours, theirs)
    }

    struct Client: Sendable {
        var base: String
        var user: String
        var password: String

        func send(
            _ method: String, _ path: String, _ body: [UInt8], type: String = "application/xml", depth: String = "1"
        )
            async throws -> HTTPResponse
        {
            let auth = "Basic " + Data("\(user):\(password)".utf8).base64EncodedString()
            var r = HTTPRequest(
                method: method, url: base + path,
                headers: [("Authorization", auth), ("Content-Type", type), ("Depth", depth)],
                body: body, connectTimeout: 10, timeout: 600, maxResponseBytes: 256 << 20, maxRedirects: 0)
            r.userAgent = "outboard-bench"
            return try await CurlHTTPClient().send(r)
        }

        /// The collection's sync token, read by a sync-collection from none.
        func token(_ collection: String, _ body: String) async throws -> String {
            let text = String(decoding: try await send("REPORT", collection, Array(body.utf8)).body, as: UTF8.self)
            guard let start = text.range(of: "sync-token>"),
                let end = text.range(of: "</", range: start.upperBound..<text.endIndex)
            else { return "" }
            return String(text[start.upperBound..<end.lowerBound])
        }

        /// The href of the object with this UID (outboard-target names objects itself).
        func href(of uid: String, in collection: String) async throws -> String? {
            let body = """
                <c:calendar-query xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav"><d:prop><d:getetag/></d:prop><c:filter><c:comp-filter name="VCALENDAR"><c:comp-filter name="VEVENT"><c:prop-filter name="UID"><c:text-match collation="i;octet">\(uid)</c:text-match></c:prop-filter></c:comp-filter></c:comp-filter></c:filter></c:calendar-query>
                """
            let text = String(decoding: try await send("REPORT", collection, Array(body.utf8)).body, as: UTF8.self)
            guard let start = text.range(of: "href>\(collection)"),
                let end = text.range(of: "</", range: start.upperBound..<text.endIndex)
            else { return nil }
            return collection + text[start.upperBound..<end.lowerBound]
        }
    }

    static func compare(
        _ what: String, ours: (Int, [String]), theirs: (Int, [String]), body: String, _ a: Client, _ b: Client
    ) async throws {
        try await compare(what, ours: ours, theirs: theirs, bodies: (body, body), a, b)
    }

    /// Times `n` rounds of the REPORT over the paths (a round is every path, one after the other).
    static func compare(
        _ what: String, ours: (Int, [String]), theirs: (Int, [String]), bodies: (String, String), _ a: Client,
        _ b: Client
    ) async throws {
        func rounds(_ client: Client, _ n: Int, _ paths: [String], _ body: String) async throws -> (
            p50: Double, p99: Double, bytes: Int
        ) {
            var times: [Double] = []
            var bytes = 0
            for _ in 0..<n {
                let t0 = DispatchTime.now().uptimeNanoseconds
                for p in paths {
                    let r = try await client.send("REPORT", p, Array(body.utf8))
                    guard r.status == 207 || r.status == 200 else {
                        throw BenchFailure("\(what): \(p) answered \(r.status)")
                    }
                    bytes = r.body.count
                }
                times.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e6)
            }
            times.sort()
            return (times[times.count / 2], times[min(times.count - 1, Int(Double(times.count) * 0.99))], bytes)
        }
        let o = try await rounds(a, ours.0, ours.1, bodies.0)
        let t = try await rounds(b, theirs.0, theirs.1, bodies.1)
        print(
            String(
                format:
                    "%@: outboard-target p50 %.1f ms, p99 %.1f ms (%d runs); Radicale p50 %.0f ms, p99 %.0f ms (%d runs); %.0f times faster at p50",
                what, o.p50, o.p99, ours.0, t.p50, t.p99, theirs.0, t.p50 / o.p50))
    }

    /// Each collection PUT whole into Radicale (its way of taking a calendar at once): the seconds.
    static func loadRadicale(_ radicale: CalDAVServerProcess, day0: Int64) async throws -> Double {
        try radicale.send("MKCOL", "/outboard/")
        let client = Client(base: radicale.base, user: CalDAVServerProcess.user, password: CalDAVServerProcess.password)
        let t0 = DispatchTime.now().uptimeNanoseconds
        for c in 0..<collections {
            var random = SplitMix64(seed: UInt64(c + 1))
            var zones: [ICalComponent] = []
            var events: [ICalComponent] = []
            for i in 0..<AvailabilityBench.eventsPerCollection {
                let e = AvailabilityBench.event(c, i, day0: day0, &random)
                if zones.isEmpty { zones = e.components.filter { $0.name == "VTIMEZONE" } }
                events += e.components.filter { $0.name != "VTIMEZONE" }
            }
            let whole = ICalComponent(
                name: "VCALENDAR",
                properties: [
                    ICalProperty("VERSION", .text("2.0")), ICalProperty("PRODID", .text("-//Outboard//Bench//EN")),
                ],
                components: zones + events)
            let r = try await client.send(
                "PUT", "/outboard/c\(c)/", ICalWriter.write([whole]), type: "text/calendar; charset=utf-8")
            guard r.status == 201 || r.status == 204 else { throw BenchFailure("Radicale took c\(c) with \(r.status)") }
        }
        return Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
    }

    /// `20260302T000000Z` of epoch seconds.
    static func basic(_ t: Int64) -> String { AvailabilityBench.rfc3339(t).filter { $0 != "-" && $0 != ":" } }

    struct BenchFailure: Error, CustomStringConvertible {
        var description: String
        init(_ description: String) { self.description = description }
    }
}
