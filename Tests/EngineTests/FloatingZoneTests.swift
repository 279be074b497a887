import CalendarModel
import Engine
import EngineAdapters
import Foundation
import Testing
import TestSupport

/// `floating: keep | zone`: floating times mirrored as written, or given the calendar's
/// X-WR-TIMEZONE as TZID (with its VTIMEZONE when the feed has one), as Google and Apple show them.
@Suite struct FloatingZoneTests {
    static func tzid(_ c: ICalComponent?, _ name: String) -> String? {
        c?.property(name)?.parameter("TZID")
    }

    static func items(_ fixture: String) throws -> ItemSet {
        ItemGrouper.items(from: try ICalParser().parse(try EngineFixtures.bytes(fixture)))
    }

    @Test func floatingDateTimesGetTheCalendarsZoneAndItsVTimezone() throws {
        let set = try Self.items("floating-x-wr-timezone.ics")
        let zoner = try #require(FloatingZoner(calendarProperties: set.calendarProperties, timezones: set.timezones))
        #expect(zoner.tzid == "Europe/Berlin")
        let zoned = Dictionary(uniqueKeysWithValues: set.items.map { ($0.key, zoner.zone($0)) })
        let concert = try #require(zoned["concert@floating"])
        let training = try #require(zoned["training@floating"])
        #expect(
            Self.tzid(concert.master, "DTSTART") == "Europe/Berlin"
                && Self.tzid(concert.master, "DTEND") == "Europe/Berlin")
        #expect(Self.tzid(training.master, "EXDATE") == "Europe/Berlin")
        #expect(
            Self.tzid(training.overrides.first, "RECURRENCE-ID") == "Europe/Berlin"
                && Self.tzid(training.overrides.first, "DTSTART") == "Europe/Berlin")
        #expect(concert.timezones.map { $0.property("TZID")?.text } == ["Europe/Berlin"])
        // A date, and a UTC time, stay as written, and get no zone.
        for key in ["holiday@floating", "call@floating"] {
            let item = try #require(zoned[key])
            #expect(item == set.items.first { $0.key == key }, "\(key)")
            #expect(item.timezones.isEmpty)
        }
        // Without X-WR-TIMEZONE there is nothing to zone with.
        #expect(FloatingZoner(calendarProperties: [], timezones: set.timezones) == nil)
    }

    /// End to end: the zoned form reaches the reference target (with the feed's VTIMEZONE, or none
    /// when the feed has none); `floating: keep` mirrors the same feed as written.
    @Test func aZonedFeedIsMirroredWithItsZone() async throws {
        let bed = try Bed()
        try bed.nginx.put("google.ics", try EngineFixtures.bytes("floating-x-wr-timezone.ics"))
        try bed.nginx.put("chicago.ics", try EngineFixtures.bytes("floating-no-vtimezone.ics"))
        func concert(_ collection: String) async throws -> ICalComponent {
            try #require(try await bed.client.fetch(uid: "concert@floating", in: collection)?.calendar)
        }
        let zone = try bed.subscription("zone", feed: "google.ics", collection: "/t/zone", extra: "floating: zone")
        let r = await bed.pass(zone)
        #expect(
            r.succeeded && r.added.count == 4 && r.diagnostics.isEmpty,
            "\(String(describing: r.error)) \(r.diagnostics)")
        var calendar = try await concert("/t/zone")
        #expect(Self.tzid(calendar.components.first { $0.name == "VEVENT" }, "DTSTART") == "Europe/Berlin")
        #expect(
            calendar.components.filter { $0.name == "VTIMEZONE" }.map { $0.property("TZID")?.text } == ["Europe/Berlin"]
        )
        #expect(await bed.pass(zone).notModified)

        let keep = try bed.subscription("keep", feed: "google.ics", collection: "/t/keep")
        #expect(keep.floating == .keep)
        #expect(await bed.pass(keep).succeeded)
        calendar = try await concert("/t/keep")
        #expect(Self.tzid(calendar.components.first { $0.name == "VEVENT" }, "DTSTART") == nil)
        #expect(!calendar.components.contains { $0.name == "VTIMEZONE" })

        let chicago = try bed.subscription(
            "chicago", feed: "chicago.ics", collection: "/t/chicago", extra: "floating: zone")
        #expect(await bed.pass(chicago).succeeded)
        calendar = try await concert("/t/chicago")
        #expect(Self.tzid(calendar.components.first { $0.name == "VEVENT" }, "DTSTART") == "America/Chicago")
        #expect(!calendar.components.contains { $0.name == "VTIMEZONE" }, "the feed has no VTIMEZONE: none is made up")
    }

    /// Turning `floating: zone` on updates the floating items even where their bytes are the ones
    /// processed before (the policy is part of each item's source digest).
    @Test func turningZoneOnUpdatesTheFloatingItems() async throws {
        let bed = try MemoryBed()
        var body = String(decoding: try EngineFixtures.bytes("floating-x-wr-timezone.ics"), as: UTF8.self)
        bed.put("f.ics", Array(body.utf8))
        #expect(await bed.pass(try bed.subscription("s", feed: "f.ics", collection: "/s")).added.count == 4)
        body = body.replacingOccurrences(of: "SUMMARY:Call (UTC)", with: "SUMMARY:Call (UTC, moved)")
        bed.put("f.ics", Array(body.utf8))
        let r = await bed.pass(try bed.subscription("s", feed: "f.ics", collection: "/s", extra: "floating: zone"))
        #expect(r.succeeded)
        #expect(r.updated.map(\.key).sorted() == ["call@floating", "concert@floating", "training@floating"])
        #expect(r.unchanged == 1)
    }

    /// `floating: zone` on a feed without X-WR-TIMEZONE keeps its floating times and says so.
    @Test func withoutXWRTimezoneTheReportSaysTheTimesStayFloating() async throws {
        let bed = try MemoryBed()
        let body = String(decoding: try EngineFixtures.bytes("floating-no-vtimezone.ics"), as: UTF8.self)
            .replacingOccurrences(of: "X-WR-TIMEZONE:America/Chicago\r\n", with: "")
        bed.put("f.ics", Array(body.utf8))
        let r = await bed.pass(try bed.subscription("s", feed: "f.ics", collection: "/s", extra: "floating: zone"))
        #expect(r.succeeded)
        #expect(
            r.diagnostics == [
                "floating: zone, but the feed has no X-WR-TIMEZONE: 2 items with floating times mirrored as written"
            ])
    }

    @Test func aFloatingPolicyOtherThanKeepOrZoneIsAProblemWithItsLine() {
        let text =
            "source:\n  url: https://example.org/a.ics\nfloating: utc\ntarget:\n  url: http://127.0.0.1:1/calws\n  collection: /x\n  token-env: T\n"
        guard
            case .failure(let p) = SubscriptionLoader.load(
                id: "f", text: text, file: "f.yaml", filters: [:], environment: ["T": "t"])
        else {
            Issue.record("accepted")
            return
        }
        #expect(p.problems.map(\.description) == [#"f.yaml:3: floating should be keep or zone, not "utc""#])
    }
}
