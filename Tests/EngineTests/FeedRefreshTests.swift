import CalendarModel
import Engine
import EngineAdapters
import EngineDaemon
import Foundation
import Testing

/// `refresh: feed`: the feed's REFRESH-INTERVAL (RFC 7986) or X-PUBLISHED-TTL sets the interval,
/// bounded by `refresh-min` and `refresh-max`; a malformed duration is a diagnostic.
@Suite struct FeedRefreshTests {
    static func calendar(_ properties: [String], events: [[String]] = [match(1)]) -> [UInt8] {
        let lines =
            ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Feed//EN"] + properties + events.flatMap { $0 } + [
                "END:VCALENDAR"
            ]
        return Array((lines.joined(separator: "\r\n") + "\r\n").utf8)
    }

    @Test(arguments: [
        // (calendar properties, seconds read, problems)
        ([], nil as Int?, 0),
        (["REFRESH-INTERVAL;VALUE=DURATION:PT1H"], 3600, 0),
        (["X-PUBLISHED-TTL:PT30M"], 1800, 0),
        (["X-PUBLISHED-TTL:PT30M", "REFRESH-INTERVAL;VALUE=DURATION:P1D"], 86_400, 0),  // the standard one first
        (["REFRESH-INTERVAL;VALUE=DURATION:P1W"], 604_800, 0),
        (["REFRESH-INTERVAL;VALUE=DURATION:P1H"], nil, 1),  // common in the wild
        (["REFRESH-INTERVAL;VALUE=DURATION:P1H", "X-PUBLISHED-TTL:PT2H"], 7200, 1),  // the other one still reads
        (["REFRESH-INTERVAL;VALUE=DURATION:-PT1H"], nil, 1),
        (["X-PUBLISHED-TTL:PT0S"], nil, 1),
        (["X-PUBLISHED-TTL:1 hour"], nil, 1),
    ])
    func theFeedsIntervalIsReadFromItsCalendarProperties(properties: [String], seconds: Int?, problems: Int) throws {
        let set = ItemGrouper.items(from: try ICalParser().parse(Self.calendar(properties)))
        let reading = FeedRefresh.read(set.calendarProperties)
        #expect(reading.seconds == seconds)
        #expect(reading.problems.count == problems, "\(reading.problems)")
    }

    /// Through the pass on the in-memory seams: the bounded interval reaches the report and the
    /// feed state; a 304 keeps it; a malformed duration keeps the last one, with a diagnostic; a
    /// feed that asks for none gets `refresh` within the bounds.
    @Test func aPassCarriesTheFeedsBoundedInterval() async throws {
        let bed = try MemoryBed()
        let s = try bed.subscription(
            "paced", feed: "paced.ics", collection: "/paced", extra: "refresh: feed\nrefresh-max: 1d")
        func pass(_ properties: [String]?) async -> SyncReport {
            if let properties { bed.put("paced.ics", Self.calendar(properties)) }
            return await bed.pass(s)
        }
        var r = await pass(["REFRESH-INTERVAL;VALUE=DURATION:PT2H"])
        #expect(r.succeeded && r.feedRefresh == 7200 && r.diagnostics.isEmpty)
        #expect(try bed.store.feed("paced").feedRefresh == 7200)
        r = await pass(nil)
        #expect(r.notModified && r.feedRefresh == 7200, "a 304 keeps the feed's pace")
        r = await pass(["REFRESH-INTERVAL;VALUE=DURATION:PT1M"])
        #expect(r.feedRefresh == 900, "at least refresh-min (15 minutes by default)")
        r = await pass(["X-PUBLISHED-TTL:P2D"])
        #expect(r.feedRefresh == 86_400, "at most refresh-max")
        r = await pass(["REFRESH-INTERVAL;VALUE=DURATION:P1H"])
        #expect(r.succeeded, "a malformed duration does not fail the pass")
        #expect(r.feedRefresh == 86_400, "the last interval the feed asked for stays")
        #expect(
            r.diagnostics == [
                #"the feed's REFRESH-INTERVAL "P1H" is not a positive duration such as PT1H (RFC 5545 §3.3.6); the refresh interval is 1d"#
            ])
        r = await pass([])
        #expect(r.succeeded && r.feedRefresh == nil && r.diagnostics.isEmpty)
        #expect(s.interval(feedRefresh: r.feedRefresh) == 3600, "refresh (1h by default) within the bounds")
    }

    /// The daemon's scheduler runs the real pass and schedules it at the feed's interval.
    @Test func theSchedulerTakesTheIntervalFromThePass() async throws {
        let bed = try MemoryBed()
        bed.put("paced.ics", Self.calendar(["REFRESH-INTERVAL;VALUE=DURATION:PT3H"]))
        let s = try bed.subscription("paced", feed: "paced.ics", collection: "/paced", extra: "refresh: feed")
        let scheduler = Scheduler(subscriptions: [s], states: [:], now: t0, random: { 0.5 }) {
            await bed.pass($0, now: t0)
        }
        let reports = await scheduler.runDue(now: t0, clock: { t0 })
        #expect(reports.map(\.feedRefresh) == [10_800])
        #expect(await scheduler.schedule("paced")?.nextDue == t0.addingTimeInterval(10_800))
        // A restarted daemon starts from the stored interval.
        let restarted = Scheduler(
            subscriptions: [s], states: try bed.store.feeds(), now: t0.addingTimeInterval(100), random: { 0.5 }
        ) { await bed.pass($0) }
        #expect(await restarted.schedule("paced")?.nextDue == t0.addingTimeInterval(10_800))
    }

    @Test(arguments: [
        // (refresh lines, the report's feed interval, succeeded, Retry-After, expected delay)
        ("refresh: 1h", nil as Int?, true, nil as Int?, 3600.0),
        ("refresh: 1h", 7200, true, nil, 3600.0),  // not refresh: feed: the report's interval is not used
        ("refresh: feed", 7200, true, nil, 7200.0),
        ("refresh: feed", nil, true, nil, 3600.0),  // the feed asks for none: refresh's default
        ("refresh: feed\nrefresh-min: 2h", nil, true, nil, 7200.0),  // … within the bounds
        ("refresh: feed\nrefresh-max: 30m", nil, true, nil, 1800.0),
        ("refresh: feed", 7200, false, nil, 60.0),  // a failure backs off as ever
        ("refresh: feed", 7200, false, 600, 600.0),  // and Retry-After keeps its effect
    ])
    func theScheduleFollowsTheFeedsInterval(
        lines: String, feedRefresh: Int?, succeeded: Bool, retryAfter: Int?, delay: Double
    ) async throws {
        let s = try SubscriptionLoader.load(
            id: "s",
            text:
                "source:\n  url: http://127.0.0.1:1/f.ics\n\(lines)\ntarget:\n  url: http://127.0.0.1:1/calws\n  collection: /c\n  token-env: T\n",
            file: "s.yaml", filters: [:], environment: ["T": "t"]
        ).get()
        let scheduler = Scheduler(subscriptions: [s], states: [:], now: t0, random: { 0.5 }) { _ in
            SyncReport(subscription: "s")
        }
        #expect(await scheduler.start(now: t0).count == 1)
        var r = SyncReport(subscription: "s")
        r.feedRefresh = feedRefresh
        r.retryAfter = retryAfter
        if !succeeded { r.error = "the feed at 127.0.0.1 answered HTTP 503" }
        await scheduler.finish(r, now: t0)
        #expect(await scheduler.schedule("s")?.nextDue == t0.addingTimeInterval(delay))
    }

    @Test func refreshBoundsAreCheckedWithTheirLines() {
        func problems(_ lines: String) -> [String] {
            let text =
                "source:\n  url: http://127.0.0.1:1/f.ics\n\(lines)\ntarget:\n  url: http://127.0.0.1:1/calws\n  collection: /c\n  token-env: T\n"
            guard
                case .failure(let p) = SubscriptionLoader.load(
                    id: "s", text: text, file: "s.yaml", filters: [:], environment: ["T": "t"])
            else { return [] }
            return p.problems.map(\.description)
        }
        #expect(
            problems("refresh: 1h\nrefresh-min: 10m") == [
                "s.yaml:4: refresh-min bounds the feed's own interval: set refresh: feed, or remove it"
            ])
        #expect(
            problems("refresh-min: 10m\nrefresh-max: 2h") == [
                "s.yaml:3: refresh-min and refresh-max bound the feed's own interval: set refresh: feed, or remove them"
            ])
        #expect(
            problems("refresh: feed\nrefresh-min: 2h\nrefresh-max: 1h") == [
                "s.yaml:4: refresh-min (2h) is above refresh-max (1h)"
            ])
        #expect(
            problems("refresh: feed\nrefresh-max: 5s") == [
                #"s.yaml:4: refresh-max "5s" should be a duration of 30s or more, such as 15m or 1d"#
            ])
        #expect(
            problems("refresh: fed") == [
                #"s.yaml:3: refresh "fed" should be a duration of 30s or more, such as 15m, 1h or 1d, or feed"#
            ])
    }
}
