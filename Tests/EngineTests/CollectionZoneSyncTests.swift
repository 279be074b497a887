import CalendarModel
import CalWS
import Engine
import EngineAdapters
import Filters
import Foundation
import SyncCore
import Testing
import TestSupport

/// The collection's zone end to end: the engine tells the real `outboard-target` the zone of each
/// collection it writes (the feed's X-WR-TIMEZONE, or the subscription's `zone`), and the target
/// places all-day and floating events in it whatever zone a query names.
@Suite struct CollectionZoneSyncTests {
    /// A Berlin feed: a public holiday on Saturday 7 February 2026 (all day), a floating meeting on
    /// Monday 9 February 09:00–10:00, and a match at 15:00 UTC on Tuesday 10 February.
    static let berlinFeed = Array(
        ([
            "BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Feed//EN", "X-WR-TIMEZONE:Europe/Berlin",
            "BEGIN:VEVENT", "UID:holiday@x", "DTSTAMP:20260101T000000Z", "DTSTART;VALUE=DATE:20260207",
            "DTEND;VALUE=DATE:20260208", "SUMMARY:Holiday", "END:VEVENT",
            "BEGIN:VEVENT", "UID:meeting@x", "DTSTAMP:20260101T000000Z", "DTSTART:20260209T090000",
            "DTEND:20260209T100000", "SUMMARY:Meeting", "END:VEVENT",
            "BEGIN:VEVENT", "UID:match@x", "DTSTAMP:20260101T000000Z", "DTSTART:20260210T150000Z",
            "DTEND:20260210T170000Z", "SUMMARY:Match", "END:VEVENT", "END:VCALENDAR",
        ].joined(separator: "\r\n") + "\r\n").utf8)

    /// The busy periods of `collection` from Thursday 5 to Thursday 12 February, asked in `zone`.
    static func busy(_ bed: Bed, _ collection: String, zone: String) async throws -> [String] {
        let body =
            #"{"participants": [{"members": ["\#(collection)"]}], "query_periods": [{"start": "2026-02-05T00:00:00Z", "end": "2026-02-12T00:00:00Z"}], "response_format": "busy", "zone": "\#(zone)"}"#
        let json = try await bed.availability(body)
        return (json["busy"] as? [[String: String]] ?? []).map { "\($0["start"] ?? "?")–\($0["end"] ?? "?")" }
    }

    @Test func aNewYorkQueryOverABerlinFeedPlacesItsAllDayAndFloatingEventsOnBerlinsDaysAndHours() async throws {
        let bed = try Bed()
        try bed.nginx.put("berlin.ics", Self.berlinFeed)
        let s = try bed.subscription("berlin", feed: "berlin.ics", collection: "/cal/berlin")
        let first = await bed.pass(s)
        #expect(first.succeeded, "\(String(describing: first.error))")
        let berlin = [
            "2026-02-06T23:00:00Z–2026-02-07T23:00:00Z",  // Saturday in Berlin, from 18:00 on Friday in New York
            "2026-02-09T08:00:00Z–2026-02-09T09:00:00Z",  // 09:00 in Berlin
            "2026-02-10T15:00:00Z–2026-02-10T17:00:00Z",
        ]
        #expect(try await Self.busy(bed, "/cal/berlin", zone: "America/New_York") == berlin)
        #expect(try await bed.client.properties(href: "/cal/berlin")?.timezone == "Europe/Berlin")

        // A 304 keeps the zone (the store remembers the feed's), and `outboard verify`'s check
        // finds the target placing them where the subscription does.
        #expect(await bed.pass(s).notModified)
        #expect(try await bed.client.properties(href: "/cal/berlin")?.timezone == "Europe/Berlin")
        #expect(try bed.store.feed("berlin").feedZone == "Europe/Berlin")
        let check = try await MirrorCheck(
            subscription: s, filters: FilterPipeline(input: [], output: []), target: bed.calws,
            source: FeedFetcher()
        ).run(
            from: 1_770_249_600, to: 1_770_854_400)
        #expect(check.zone == "Europe/Berlin" && check.targetZone == "Europe/Berlin")
        #expect(check.comparison.differences.isEmpty, "\(check.comparison.differences)")
    }

    @Test func theSubscriptionsZoneWinsOverTheFeedsAndVerifySeesATargetThatWasNotTold() async throws {
        let bed = try Bed()
        try bed.nginx.put("berlin.ics", Self.berlinFeed)
        let s = try bed.subscription(
            "tokyo", feed: "berlin.ics", collection: "/cal/tokyo", extra: "zone: Asia/Tokyo")
        #expect(s.zone == "Asia/Tokyo")
        #expect(await bed.pass(s).succeeded)
        #expect(
            try await Self.busy(bed, "/cal/tokyo", zone: "UTC") == [
                "2026-02-06T15:00:00Z–2026-02-07T15:00:00Z", "2026-02-09T00:00:00Z–2026-02-09T01:00:00Z",
                "2026-02-10T15:00:00Z–2026-02-10T17:00:00Z",
            ])

        // Another subscription's report takes the zone away (as an older engine would): verify
        // says the target places them elsewhere and finds the instances moved.
        try await bed.client.reportFreshness(
            CollectionFreshness(href: "/cal/tokyo", subscription: "other", refreshInterval: 60))
        let check = try await MirrorCheck(
            subscription: s, filters: FilterPipeline(input: [], output: []), target: bed.calws,
            source: FeedFetcher()
        ).run(
            from: 1_770_249_600, to: 1_770_854_400)
        #expect(check.zone == "Asia/Tokyo" && check.targetZone == nil)
        #expect(!check.comparison.differences.isEmpty)
    }

    @Test func aZoneNoOneKnowsIsAProblemNamingTheFileAndLine() {
        let text =
            "source:\n  url: http://127.0.0.1:1/f.ics\ntarget:\n  url: http://127.0.0.1:1/calws\n"
            + "  collection: /c\n  token-env: T\nzone: Mars/Olympus\n"
        let loaded = SubscriptionLoader.load(id: "m", text: text, file: "m.yaml", filters: [:], environment: ["T": "x"])
        guard case .failure(let problems) = loaded else {
            Issue.record("a zone no one knows was accepted")
            return
        }
        #expect(
            problems.problems.map(\.description) == [
                "m.yaml:7: zone \"Mars/Olympus\" is not a time zone this machine knows: give an IANA name such as Europe/Berlin"
            ])
    }
}
