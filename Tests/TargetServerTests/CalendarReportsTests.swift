import CalendarModel
import CalWS
import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import Recurrence
@testable import TargetServer
import SyncCore
import Testing
import TestSupport

/// `getProperties`, `calendarQuery` by time range and with `expand`, `freebusyReport`, and
/// Outboard's `reportFreshness` with the `sources` of availability answers, in process on the
/// application the executable runs.
@Suite struct CalendarReportsTests {
    static func app() throws -> some ApplicationProtocol {
        let tokens = TokenTable(entries: ["all": Grants(all: true), "club": Grants(collections: ["/sport/club"])])
        let views = try ViewSet.read(
            "team: {collections: [/sport/club, /people/me], detail: busy}\n", file: "views.yaml"
        )
        .get()
        let config = TargetConfiguration(
            dataDirectory: TargetProcess.temporaryDirectory().path, port: 0, tokens: tokens, views: views)
        return try buildTargetApplication(config, logger: Logger(label: "test"))
    }

    static func calendar(_ lines: [String]) throws -> ICalComponent {
        let text =
            (["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//t//EN"] + lines + ["END:VCALENDAR"]).joined(
                separator: "\r\n") + "\r\n"
        return try ICalParser().parse(text).calendars[0]
    }

    static func utc(_ day: Int, _ hour: Int = 0, _ minute: Int = 0) -> ICalDateTime {
        ICalDateTime(year: 2027, month: 1, day: day, hour: hour, minute: minute, second: 0, isUTC: true)
    }

    /// A weekly training in Berlin (Wednesdays 18:00 local, 17:00 UTC in winter) whose 13 January
    /// instance is moved to 19:00 and marked tentative and whose 20 January one is cancelled; a
    /// transparent all-week holiday; and a one-off match on Saturday 9 January 10:00–12:00 UTC.
    static let club: [[String]] = [
        [
            "BEGIN:VTIMEZONE", "TZID:Europe/Berlin", "BEGIN:STANDARD", "DTSTART:19701025T030000",
            "RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU", "TZOFFSETFROM:+0200", "TZOFFSETTO:+0100", "END:STANDARD",
            "BEGIN:DAYLIGHT", "DTSTART:19700329T020000", "RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU",
            "TZOFFSETFROM:+0100", "TZOFFSETTO:+0200", "END:DAYLIGHT", "END:VTIMEZONE",
            "BEGIN:VEVENT", "UID:training", "DTSTAMP:20261101T000000Z", "DTSTART;TZID=Europe/Berlin:20270106T180000",
            "DTEND;TZID=Europe/Berlin:20270106T193000", "RRULE:FREQ=WEEKLY;COUNT=6", "SUMMARY:Training",
            "END:VEVENT",
            "BEGIN:VEVENT", "UID:training", "DTSTAMP:20261101T000000Z",
            "RECURRENCE-ID;TZID=Europe/Berlin:20270113T180000", "DTSTART;TZID=Europe/Berlin:20270113T190000",
            "DTEND;TZID=Europe/Berlin:20270113T203000", "STATUS:TENTATIVE", "SUMMARY:Training (late)", "END:VEVENT",
            "BEGIN:VEVENT", "UID:training", "DTSTAMP:20261101T000000Z",
            "RECURRENCE-ID;TZID=Europe/Berlin:20270120T180000", "DTSTART;TZID=Europe/Berlin:20270120T180000",
            "DTEND;TZID=Europe/Berlin:20270120T193000", "STATUS:CANCELLED", "SUMMARY:Training", "END:VEVENT",
        ],
        [
            "BEGIN:VEVENT", "UID:holiday", "DTSTAMP:20261101T000000Z", "DTSTART;VALUE=DATE:20270104",
            "DTEND;VALUE=DATE:20270111", "TRANSP:TRANSPARENT", "SUMMARY:School holiday", "END:VEVENT",
        ],
        [
            "BEGIN:VEVENT", "UID:match", "DTSTAMP:20261101T000000Z", "DTSTART:20270109T100000Z",
            "DTEND:20270109T120000Z", "SUMMARY:Match", "END:VEVENT",
        ],
    ]

    static func call(
        _ client: some TestClientProtocol, _ request: CalWSRequest, token: String = "all",
        status: HTTPResponse.Status = .ok
    ) async throws -> CalWSResponse {
        try await client.execute(
            uri: "/calws", method: .post, headers: [.authorization: "Bearer \(token)"],
            body: ByteBuffer(bytes: MessageCodec.encode(request))
        ) { r in
            #expect(r.status == status, "\(String(buffer: r.body))")
            return try MessageCodec.decodeResponse(Array(buffer: r.body))
        }
    }

    static func seeded(_ client: some TestClientProtocol) async throws {
        for lines in club {
            let r = try await call(client, CalWSRequest(.addItem(href: "/sport/club", calendar: try calendar(lines))))
            #expect(r.result.status == .ok)
        }
    }

    /// The FREEBUSY lines of a report's VFREEBUSY, as iCalendar text.
    static func freebusyLines(_ r: CalWSResponse) throws -> [String] {
        guard case .freebusyReport(let cal?) = r.body else {
            Issue.record("no VFREEBUSY in \(r)")
            return []
        }
        let fb = try #require(cal.components.first { $0.name == "VFREEBUSY" })
        return ICalWriter.string([ICalComponent(name: "X", components: [fb])])
            .replacingOccurrences(of: "\r\n ", with: "").components(separatedBy: "\r\n")
            .filter { $0.hasPrefix("FREEBUSY") || $0.hasPrefix("DTSTART") || $0.hasPrefix("DTEND") }
    }

    @Test func propertiesAndTimeRangeQueries() async throws {
        try await Self.app().test(.router) { client in
            let calws = TargetApplicationTests.CalWSCaller(client: client)
            let c = "/t/range"
            _ = try await calws.add(try event("march@x", "March"), to: c)  // 2026-03-01 15:00-17:00Z
            let weekly = try Self.calendar([
                "BEGIN:VEVENT", "UID:weekly@x", "DTSTART:20250101T100000Z",
                "DTEND:20250101T110000Z", "RRULE:FREQ=WEEKLY", "END:VEVENT",
            ])
            _ = try await calws.add(weekly, to: c)
            let props = try await calws.properties(c)
            #expect(props?.href == c)
            #expect(props?.supportedFeatures == ["calendarAccessFeature"])
            #expect(props?.resourceType == "calendarCollection")
            func range(_ a: (Int, Int), _ b: (Int, Int)) async throws -> [String] {
                let q = CalendarQuery(
                    href: c,
                    filter: .timeRange(
                        start: .init(year: 2026, month: a.0, day: a.1, hour: 0, minute: 0, second: 0, isUTC: true),
                        end: .init(year: 2026, month: b.0, day: b.1, hour: 0, minute: 0, second: 0, isUTC: true)))
                return try await calws.entities(.calendarQuery(q)).map(\.href).sorted()
            }
            #expect(try await range((3, 1), (3, 2)) == [c + "/march@x.ics", c + "/weekly@x.ics"])
            #expect(
                try await range((4, 1), (5, 1)) == [c + "/weekly@x.ics"],
                "the recurring series may recur into the range")
            #expect(try await calws.refusal(.getProperties(href: "/t/none")).error == .targetDoesNotExist)
        }
    }

    /// A time range compares instants: a local time with an IANA TZID is converted with the
    /// system's zone database (RFC 5545 §3.3.5 for the times a change of offset skips or
    /// repeats), one with an unknown TZID is read as if UTC.
    @Test func timeRangesCompareLocalTimesAsInstants() {
        func event(_ start: String, _ end: String) -> ICalComponent {
            let tzid = { (v: String) in v.hasSuffix("Z") ? "" : ";TZID=Europe/Berlin" }
            return try! ICalParser().parse(
                "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:z\r\nDTSTART\(tzid(start)):\(start)\r\n"
                    + "DTEND\(tzid(end)):\(end)\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
            ).calendars[0]
        }
        func utc(_ s: String) -> ICalDateTime {
            guard case .dateTime(let d)? = ICalValue.parse(s, as: .dateTime) else { fatalError(s) }
            return d
        }
        // 09:00-10:00 in Berlin in January is 08:00-09:00Z; in July 07:00-08:00Z.
        let winter = event("20260105T090000", "20260105T100000")
        let summer = event("20260705T090000", "20260705T100000")
        #expect(TimeRange.overlaps(winter, start: utc("20260105T083000Z"), end: utc("20260105T084500Z")))
        #expect(!TimeRange.overlaps(winter, start: utc("20260105T093000Z"), end: utc("20260105T094500Z")))
        #expect(TimeRange.overlaps(summer, start: utc("20260705T071500Z"), end: utc("20260705T073000Z")))
        #expect(!TimeRange.overlaps(summer, start: utc("20260705T083000Z"), end: utc("20260705T090000Z")))
        // 02:30 does not exist on 2026-03-29 in Berlin: the offset before the gap (+01:00) applies.
        #expect(TimeRange.utc(utc("20260329T023000Z").local, in: "Europe/Berlin") == utc("20260329T013000Z"))
        // 02:30 exists twice on 2026-10-25: the first (+02:00) is meant.
        #expect(TimeRange.utc(utc("20261025T023000Z").local, in: "Europe/Berlin") == utc("20261025T003000Z"))
        #expect(
            TimeRange.utc(utc("20260105T090000Z").local, in: "/Europe/Berlin") == utc("20260105T080000Z"),
            "a globally unique TZID")
        #expect(TimeRange.utc(utc("20260105T090000Z").local, in: "W. Europe Standard Time") == nil)
    }

    @Test func freebusyReportCoalescesEachInstancePerType() async throws {
        try await Self.app().test(.router) { client in
            try await Self.seeded(client)
            let r = try await Self.call(
                client,
                CalWSRequest(
                    id: 4, .freebusyReport(href: "/sport/club", range: UTCRange(start: Self.utc(5), end: Self.utc(21))))
            )
            #expect(r.id == 4 && r.result.status == .ok)
            // The holiday is transparent; the 20th is cancelled; the 13th is tentative and moved.
            let text = try Self.freebusyLines(r).joined(separator: "\n")
            #expect(
                text == """
                    DTSTART:20270105T000000Z
                    DTEND:20270121T000000Z
                    FREEBUSY;FBTYPE=BUSY:20270106T170000Z/20270106T183000Z,20270109T100000Z/20270109T120000Z
                    FREEBUSY;FBTYPE=BUSY-TENTATIVE:20270113T180000Z/20270113T193000Z
                    """)

            // Clipped to the range; nothing busy gives no FREEBUSY at all.
            let clipped = try await Self.call(
                client,
                CalWSRequest(
                    .freebusyReport(href: "/sport/club", range: UTCRange(start: Self.utc(9, 11), end: Self.utc(10)))))
            #expect(
                try Self.freebusyLines(clipped).last == "FREEBUSY;FBTYPE=BUSY:20270109T110000Z/20270109T120000Z")
            let quiet = try await Self.call(
                client,
                CalWSRequest(
                    .freebusyReport(href: "/sport/club", range: UTCRange(start: Self.utc(20), end: Self.utc(21)))))
            #expect(try Self.freebusyLines(quiet).allSatisfy { !$0.hasPrefix("FREEBUSY") })

            // A view's report is its collections' busy time together; a token granted only one
            // of them is refused it.
            let own = try CalendarReportsTests.calendar([
                "BEGIN:VEVENT", "UID:own", "DTSTAMP:20261101T000000Z", "DTSTART:20270109T110000Z",
                "DTEND:20270109T130000Z", "END:VEVENT",
            ])
            _ = try await Self.call(client, CalWSRequest(.addItem(href: "/people/me", calendar: own)))
            let team = CalWSRequest(
                .freebusyReport(href: "/views/team", range: UTCRange(start: Self.utc(9), end: Self.utc(10))))
            #expect(
                try Self.freebusyLines(try await Self.call(client, team)).last
                    == "FREEBUSY;FBTYPE=BUSY:20270109T100000Z/20270109T130000Z")
            let refused = try await Self.call(client, team, token: "club", status: .forbidden)
            #expect(refused.result.error == .forbidden)
            // The same report inside a multiOp knows the views too.
            let batched = try await Self.call(client, CalWSRequest(.multiOp([team])))
            guard case .multiOp(let answers) = batched.body else {
                Issue.record("not a multiOp answer: \(batched)")
                return
            }
            #expect(
                try Self.freebusyLines(try #require(answers.first)).last
                    == "FREEBUSY;FBTYPE=BUSY:20270109T100000Z/20270109T130000Z")

            let missing = try await Self.call(
                client,
                CalWSRequest(
                    .freebusyReport(href: "/sport/none", range: UTCRange(start: Self.utc(5), end: Self.utc(6)))))
            #expect(missing.result.error == .targetDoesNotExist)
        }
    }

    @Test func anExpandedQueryAnswersEachInstanceInUTC() async throws {
        try await Self.app().test(.router) { client in
            try await Self.seeded(client)
            let range = UTCRange(start: Self.utc(12), end: Self.utc(21))
            let r = try await Self.call(
                client,
                CalWSRequest(
                    .calendarQuery(
                        CalendarQuery(
                            href: "/sport/club", filter: .timeRange(start: range.start, end: range.end), allData: true,
                            expand: range))))
            guard case .calendarQuery(let entities) = r.body else {
                Issue.record("not a query answer: \(r)")
                return
            }
            // The holiday and the match have no instance in the range: left out.
            #expect(entities.map(\.href) == ["/sport/club/training.ics"])
            let cal = try #require(entities.first?.calendar)
            #expect(!cal.components.contains { $0.name == "VTIMEZONE" })
            let lines = cal.components.map { c in
                ["DTSTART", "DTEND", "RECURRENCE-ID", "STATUS"].compactMap { name in
                    c.property(name).map {
                        "\(name)=\(ICalWriter.string([ICalComponent(name: "X", properties: [$0])]).components(separatedBy: "\r\n")[1].split(separator: ":", maxSplits: 1)[1])"
                    }
                }.joined(separator: " ") + (c.property("RRULE") == nil ? "" : " RRULE")
            }
            #expect(
                lines == [
                    "DTSTART=20270113T180000Z DTEND=20270113T193000Z RECURRENCE-ID=20270113T170000Z STATUS=TENTATIVE",
                    "DTSTART=20270120T170000Z DTEND=20270120T183000Z RECURRENCE-ID=20270120T170000Z STATUS=CANCELLED",
                ])
        }
    }

    static let week = #"[{"start": "2027-01-05T00:00:00Z", "end": "2027-01-12T00:00:00Z"}]"#

    static func ask(_ client: some TestClientProtocol, _ json: String, status: HTTPResponse.Status = .ok)
        async throws -> [String: Any]
    {
        try await client.execute(
            uri: "/availability", method: .post, headers: [.authorization: "Bearer all"],
            body: ByteBuffer(string: json)
        ) { r in
            #expect(r.status == status, "\(String(buffer: r.body))")
            return try #require(try JSONSerialization.jsonObject(with: Data(buffer: r.body)) as? [String: Any])
        }
    }

    @Test func availabilitySaysHowFreshEachMemberIsAndCanRequireIt() async throws {
        try await Self.app().test(.router) { client in
            try await Self.seeded(client)
            let own = try CalendarReportsTests.calendar([
                "BEGIN:VEVENT", "UID:own", "DTSTAMP:20261101T000000Z", "DTSTART:20270105T090000Z",
                "DTEND:20270105T100000Z", "END:VEVENT",
            ])
            _ = try await Self.call(client, CalWSRequest(.addItem(href: "/people/me", calendar: own)))
            let now = Date()
            let fresh = CollectionFreshness(
                href: "/sport/club", subscription: "club", refreshInterval: 3600,
                lastSuccess: ICalDateTime(utcSeconds: Int64(now.timeIntervalSince1970) - 600),
                lastAttempt: ICalDateTime(utcSeconds: Int64(now.timeIntervalSince1970) - 60),
                lastError: "the feed answered HTTP 503")
            let reported = try await Self.call(client, CalWSRequest(id: 9, .reportFreshness(fresh)))
            #expect(reported.result.status == .ok && reported.body == .reportFreshness && reported.id == 9)

            let query =
                #"{"participants": [{"members": ["/sport/club", "/people/me"]}], "query_periods": \#(Self.week)"#
            let answer = try await Self.ask(client, query + "}")
            let sources = try #require(answer["sources"] as? [[String: Any]])
            #expect(sources.count == 2)
            #expect(sources[0]["member"] as? String == "/sport/club")
            #expect(sources[0]["subscription"] as? String == "club")
            #expect(sources[0]["stale"] as? Bool == false)
            #expect(sources[0]["refresh-interval"] as? Int == 3600)
            #expect(sources[0]["last-error"] as? String == "the feed answered HTTP 503")
            #expect(sources[0]["synced-at"] as? String == fresh.lastSuccess.map(Self.rfc3339))
            // A collection no subscription writes is its own source: never stale.
            #expect(sources[1]["member"] as? String == "/people/me")
            #expect(sources[1]["subscription"] is NSNull && sources[1]["synced-at"] is NSNull)
            #expect(sources[1]["stale"] as? Bool == false)

            // Ten minutes old is stale against a five-minute limit; require_fresh refuses it.
            let strict = try await Self.ask(client, query + #", "max_staleness": "PT5M"}"#)
            #expect((strict["sources"] as? [[String: Any]])?.first?["stale"] as? Bool == true)
            #expect(strict["available_periods"] != nil)
            let refused = try await Self.ask(
                client, query + #", "max_staleness": "PT5M", "require_fresh": true}"#, status: .serviceUnavailable)
            #expect(
                (refused["error"] as? String)?.hasPrefix(
                    "participants[0].members[0]: /sport/club is stale: last synced \(fresh.lastSuccess.map(Self.rfc3339)!) by subscription club; last error: the feed answered HTTP 503"
                ) == true, "\(refused)")
            #expect(refused["available_periods"] == nil && refused["sources"] != nil)
            // The default limit is twice the interval: twenty minutes against two hours is fresh.
            _ = try await Self.ask(client, query + #", "require_fresh": true}"#)

            // The report needs write access to the collection.
            let denied = try await Self.call(
                client,
                CalWSRequest(
                    .reportFreshness(CollectionFreshness(href: "/people/me", subscription: "x", refreshInterval: 60))),
                token: "club", status: .forbidden)
            #expect(denied.result.error == .forbidden)

            // A mirrored collection's published feed asks calendar apps to poll at its
            // subscription's pace; one nobody reports on at the server's (default PT1H).
            _ = try await Self.call(
                client,
                CalWSRequest(
                    .reportFreshness(
                        CollectionFreshness(href: "/sport/club", subscription: "club", refreshInterval: 900))))
            for (path, every) in [("/calendars/sport/club.ics", "PT15M"), ("/calendars/people/me.ics", "PT1H")] {
                try await client.execute(uri: path, method: .get, headers: [.authorization: "Bearer all"]) { r in
                    #expect(r.status == .ok)
                    let text = String(buffer: r.body)
                    #expect(text.contains("REFRESH-INTERVAL;VALUE=DURATION:\(every)\r\n"), "\(path)")
                    #expect(text.contains("X-PUBLISHED-TTL:\(every)\r\n"), "\(path)")
                }
            }
        }
    }

    static func rfc3339(_ t: ICalDateTime) -> String {
        RFC3339.utc(t.utcSeconds)
    }
}

private extension ICalDateTime {
    /// The same wall-clock time, not UTC.
    var local: ICalDateTime {
        var d = self
        d.time.isUTC = false
        return d
    }
}
