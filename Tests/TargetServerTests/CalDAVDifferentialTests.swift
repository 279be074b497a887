import CalendarModel
import EngineAdapters
import Foundation
import Testing
import TestSupport

/// The same events PUT into Radicale and into `outboard-target`'s CalDAV face, then the same
/// REPORTs sent to both: calendar-query with expand, calendar-multiget, free-busy-query and
/// sync-collection (initial, after a change, after a deletion). The answers must be equal once
/// normalized (order, whitespace, DTSTAMP, DURATION against DTEND, how free-busy periods are cut).
@Suite struct CalDAVDifferentialTests {
    /// One server as the test speaks to it: where its calendar is, with which credentials.
    struct Server {
        var base: String
        var calendar: String
        var authorization: String

        func send(
            _ method: String, _ path: String, _ body: String, depth: String = "1", type: String = "application/xml"
        )
            async throws -> HTTPResponse
        {
            var r = HTTPRequest(
                method: method, url: base + path,
                headers: [("Authorization", authorization), ("Content-Type", type), ("Depth", depth)],
                body: Array(body.utf8), connectTimeout: 5, timeout: 30, maxResponseBytes: 16 << 20, maxRedirects: 0)
            r.userAgent = "outboard-tests"
            return try await CurlHTTPClient().send(r)
        }

        func report(_ body: String) async throws -> WebDAVAnswer {
            WebDAVAnswer(try await send("REPORT", calendar, body))
        }
    }

    /// A multistatus read loosely: each response's href (last segment), status and calendar data.
    struct WebDAVAnswer {
        var status: Int
        var members: [String: (status: Int?, data: String?)] = [:]
        var token: String?
        var text: String

        init(_ r: HTTPResponse) {
            status = r.status
            text = String(decoding: r.body, as: UTF8.self)
            guard r.status == 207 else { return }
            for part in text.components(separatedBy: "response>").filter({ $0.contains("href>") }) {
                guard let href = Self.between(part, "href>", "</"), !href.hasSuffix("/") else { continue }
                let name = (href.removingPercentEncoding ?? href).split(separator: "/").last.map(String.init) ?? href
                let status = Self.between(part, "status>HTTP/1.1 ", " ").flatMap { Int($0) }
                let data = Self.between(part, "calendar-data>", "</").map {
                    $0.replacingOccurrences(of: "&#13;", with: "").replacingOccurrences(of: "&lt;", with: "<")
                        .replacingOccurrences(of: "&gt;", with: ">").replacingOccurrences(of: "&amp;", with: "&")
                }
                members[name] = (status == 200 ? nil : status, data)
            }
            token = Self.between(text, "sync-token>", "</")
        }

        static func between(_ s: String, _ a: String, _ b: String) -> String? {
            guard let start = s.range(of: a) else { return nil }
            guard let end = s.range(of: b, range: start.upperBound..<s.endIndex) else { return nil }
            return String(s[start.upperBound..<end.lowerBound])
        }
    }

    static let events: [(name: String, lines: [String])] = [
        (
            "series.ics",
            [
                "UID:series@diff", "DTSTART:20260302T180000Z", "DURATION:PT1H30M", "RRULE:FREQ=DAILY;COUNT=6",
                "EXDATE:20260304T180000Z", "SUMMARY:Training",
            ]
        ),
        (
            "series-moved.ics",
            [
                "UID:moved@diff", "DTSTART:20260302T070000Z", "DTEND:20260302T080000Z", "RRULE:FREQ=DAILY;COUNT=3",
                "SUMMARY:Run",
            ]
        ),
        ("match.ics", ["UID:match@diff", "DTSTART:20260305T150000Z", "DTEND:20260305T170000Z", "SUMMARY:Match"]),
        ("later.ics", ["UID:later@diff", "DTSTART:20260410T150000Z", "DTEND:20260410T170000Z", "SUMMARY:Later"]),
    ]

    static func calendar(_ lines: [String], override: [String] = []) -> String {
        var all = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//diff//EN", "BEGIN:VEVENT", "DTSTAMP:20260101T000000Z"]
        all += lines + ["END:VEVENT"]
        if !override.isEmpty { all += ["BEGIN:VEVENT", "DTSTAMP:20260101T000000Z"] + override + ["END:VEVENT"] }
        return (all + ["END:VCALENDAR"]).joined(separator: "\r\n") + "\r\n"
    }

    /// The events of calendar data as comparable lines: UID, RECURRENCE-ID, start and end in UTC
    /// (an end from DURATION), SUMMARY; DTSTAMP and order left out.
    static func normalized(_ data: String?) throws -> [String] {
        guard let data else { return [] }
        var out: [String] = []
        for c in try ICalParser().parse(data).calendars.flatMap(\.components) where c.name == "VEVENT" {
            func utc(_ name: String) -> String { c.property(name)?.value.map(ValueFormatter.icalString) ?? "-" }
            var end = utc("DTEND")
            if end == "-", case .duration(let d)? = c.property("DURATION")?.value,
                case .dateTime(let s)? = c.property("DTSTART")?.value
            {
                end = stamp(epoch(s) + seconds(d))
            }
            out.append(
                [c.uid ?? "-", utc("RECURRENCE-ID"), utc("DTSTART"), end, utc("SUMMARY")].joined(separator: " "))
        }
        return out.sorted()
    }

    /// The busy periods of a free-busy answer, merged (servers cut them differently).
    static func busy(_ r: HTTPResponse) throws -> [String] {
        var periods: [(Int64, Int64)] = []
        for c in try ICalParser().parse(r.body).calendars.flatMap(\.components) where c.name == "VFREEBUSY" {
            for p in c.properties where p.name == "FREEBUSY" {
                for v in p.values {
                    guard case .period(let period) = v else { continue }
                    let start = epoch(period.start)
                    let end: Int64
                    switch period.end {
                    case .dateTime(let e): end = epoch(e)
                    case .duration(let d): end = start + seconds(d)
                    }
                    periods.append((start, end))
                }
            }
        }
        var merged: [(Int64, Int64)] = []
        for p in periods.sorted(by: { $0.0 < $1.0 }) {
            if let last = merged.last, p.0 <= last.1 {
                merged[merged.count - 1].1 = max(last.1, p.1)
            } else {
                merged.append(p)
            }
        }
        return merged.map { "\(stamp($0.0))/\(stamp($0.1))" }
    }

    /// A UTC date-time in epoch seconds.
    static func epoch(_ d: ICalDateTime) -> Int64 {
        var c = DateComponents()
        (c.year, c.month, c.day) = (Int(d.date.year), Int(d.date.month), Int(d.date.day))
        (c.hour, c.minute, c.second) = (Int(d.time.hour), Int(d.time.minute), Int(d.time.second))
        c.timeZone = TimeZone(identifier: "UTC")
        return Int64(Calendar(identifier: .gregorian).date(from: c)?.timeIntervalSince1970 ?? 0)
    }

    static func seconds(_ d: ICalDuration) -> Int64 {
        let n =
            Int64(d.weeks) * 604_800 + Int64(d.days) * 86_400 + Int64(d.hours) * 3600 + Int64(d.minutes) * 60
            + Int64(d.seconds)
        return d.isNegative ? -n : n
    }

    /// Epoch seconds as `20260302T180000Z`.
    static func stamp(_ seconds: Int64) -> String {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "UTC")
        f.dateFormat = "yyyyMMdd'T'HHmmss'Z'"
        return f.string(from: Date(timeIntervalSince1970: TimeInterval(seconds)))
    }

    @Test func radicaleAndOutboardTargetAnswerTheSameReportsAlike() async throws {
        let radicale = try CalDAVServerProcess.start(.radicale)
        defer { radicale.stop() }
        try radicale.makeCalendar("/outboard/diff/")
        let dir = TargetProcess.temporaryDirectory()
        let tokens = dir.appendingPathComponent("tokens")
        try "all *\n".write(to: tokens, atomically: true, encoding: .utf8)
        let target = try TargetProcess.start(
            dataDirectory: dir.appendingPathComponent("data"), tokensFile: tokens.path, environmentToken: nil)
        defer { target.stop() }
        let basic = { (user: String, password: String) in
            "Basic " + Data("\(user):\(password)".utf8).base64EncodedString()
        }
        let servers = [
            Server(
                base: radicale.base, calendar: "/outboard/diff/",
                authorization: basic(CalDAVServerProcess.user, CalDAVServerProcess.password)),
            Server(
                base: target.endpoint.replacingOccurrences(of: "/calws", with: ""), calendar: "/dav/diff/",
                authorization: basic("x", "all")),
        ]
        #expect(try await servers[1].send("MKCALENDAR", "/dav/diff/", "").status == 201)
        for s in servers {
            for e in Self.events {
                let body =
                    e.name == "series-moved.ics"
                    ? Self.calendar(
                        e.lines,
                        override: [
                            "UID:moved@diff", "RECURRENCE-ID:20260303T070000Z", "DTSTART:20260303T090000Z",
                            "DTEND:20260303T100000Z", "SUMMARY:Run (later)",
                        ]) : Self.calendar(e.lines)
                let r = try await s.send("PUT", s.calendar + e.name, body, type: "text/calendar; charset=utf-8")
                #expect(r.status == 201, "\(s.base): PUT \(e.name) answered \(r.status)")
            }
        }

        func both(_ body: String) async throws -> [WebDAVAnswer] {
            var out: [WebDAVAnswer] = []
            for s in servers { out.append(try await s.report(body)) }
            return out
        }
        let c = "xmlns:d=\"DAV:\" xmlns:c=\"urn:ietf:params:xml:ns:caldav\""

        // calendar-query with expand, over one week.
        let expanded = try await both(
            """
            <c:calendar-query \(c)><d:prop><d:getetag/><c:calendar-data><c:expand start="20260302T000000Z" end="20260309T000000Z"/></c:calendar-data></d:prop>
            <c:filter><c:comp-filter name="VCALENDAR"><c:comp-filter name="VEVENT"><c:time-range start="20260302T000000Z" end="20260309T000000Z"/></c:comp-filter></c:comp-filter></c:filter></c:calendar-query>
            """)
        #expect(expanded.allSatisfy { $0.status == 207 }, "\(expanded.map(\.text))")
        let instances = try expanded.map { a in try a.members.values.flatMap { try Self.normalized($0.data) }.sorted() }
        #expect(instances[0] == instances[1], "expand: Radicale \(instances[0])\n outboard-target \(instances[1])")
        #expect(instances[1].count == 9, "5 trainings, 3 runs (one moved), a match: \(instances[1])")
        #expect(
            Set(expanded[0].members.keys) == Set(expanded[1].members.keys), "the later event is out of range on both")

        // calendar-multiget, one href missing, each server asked for hrefs of its own calendar.
        var objects: [[String: String]] = []
        for srv in servers {
            let answer = try await srv.report(
                "<c:calendar-multiget \(c)><d:prop><d:getetag/><c:calendar-data/></d:prop>"
                    + ["match.ics", "none.ics", "series.ics"].map { "<d:href>\(srv.calendar)\($0)</d:href>" }.joined()
                    + "</c:calendar-multiget>")
            objects.append(
                try answer.members.mapValues {
                    "\($0.status ?? 200) " + (try Self.normalized($0.data)).joined(separator: "|")
                })
        }
        let ownObjects = objects[1]
        #expect(objects[0] == ownObjects, "multiget: Radicale \(objects[0])\n outboard-target \(ownObjects)")
        #expect(ownObjects["none.ics"]?.hasPrefix("404") == true)

        // free-busy-query over the week: the same busy time.
        var busy: [[String]] = []
        for s in servers {
            busy.append(
                try Self.busy(
                    try await s.send(
                        "REPORT", s.calendar,
                        "<c:free-busy-query \(c)><c:time-range start=\"20260302T000000Z\" end=\"20260309T000000Z\"/></c:free-busy-query>"
                    )))
        }
        #expect(busy[0] == busy[1] && busy[1].count == 9, "free-busy: Radicale \(busy[0])\n outboard-target \(busy[1])")

        // sync-collection: from no token, then after a change and a deletion on both.
        let sync = { (token: String) in
            "<d:sync-collection \(c)><d:sync-token>\(token)</d:sync-token><d:sync-level>1</d:sync-level><d:prop><d:getetag/></d:prop></d:sync-collection>"
        }
        let initial = try await both(sync(""))
        #expect(Set(initial[0].members.keys) == Set(initial[1].members.keys) && initial[1].members.count == 4)
        for s in servers {
            _ = try await s.send(
                "PUT", s.calendar + "match.ics",
                Self.calendar(["UID:match@diff", "DTSTART:20260305T160000Z", "DTEND:20260305T180000Z", "SUMMARY:Match"]
                ),
                type: "text/calendar; charset=utf-8")
            _ = try await s.send("DELETE", s.calendar + "later.ics", "")
        }
        var delta: [[String: Int?]] = []
        for (i, s) in servers.enumerated() {
            delta.append(try await s.report(sync(initial[i].token ?? "")).members.mapValues(\.status))
        }
        #expect(delta[0] == delta[1], "sync-collection: Radicale \(delta[0])\n outboard-target \(delta[1])")
        #expect(delta[1] == ["match.ics": nil, "later.ics": 404])
        let unknown = try await both(sync("http://example.com/never"))
        #expect(unknown.allSatisfy { $0.status == 403 && $0.text.contains("valid-sync-token") })
    }
}
