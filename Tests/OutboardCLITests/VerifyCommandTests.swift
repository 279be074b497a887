import CalendarModel
import Engine
import EngineAdapters
import Foundation
import SyncCore
import Testing
import TestSupport

/// `outboard verify` against the real reference target (`outboard-target`, started on port 0)
/// and a feed file: equal after a sync, a hand-edited target instance found (and put right by a
/// reconciling pass), an override's cancellation on one side only, a series cut short by a new
/// UNTIL, and the errors.
@Suite struct VerifyCommandTests {
    static func feed(rule: String) -> String {
        [
            "BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//t//EN",
            "BEGIN:VEVENT", "UID:series@x", "DTSTART;TZID=Europe/Berlin:20260105T090000",
            "DTEND;TZID=Europe/Berlin:20260105T100000", "RRULE:\(rule)", "SUMMARY:Training", "END:VEVENT",
            "BEGIN:VEVENT", "UID:series@x", "RECURRENCE-ID;TZID=Europe/Berlin:20260112T090000",
            "DTSTART;TZID=Europe/Berlin:20260112T110000", "DTEND;TZID=Europe/Berlin:20260112T120000",
            "SUMMARY:Training (moved)", "END:VEVENT",
            "BEGIN:VEVENT", "UID:series@x", "RECURRENCE-ID;TZID=Europe/Berlin:20260119T090000",
            "DTSTART;TZID=Europe/Berlin:20260119T090000", "DTEND;TZID=Europe/Berlin:20260119T100000",
            "STATUS:CANCELLED", "SUMMARY:Training (cancelled)", "END:VEVENT",
            "BEGIN:VEVENT", "UID:lunch@x", "DTSTART:20260107T120000Z", "DTEND:20260107T130000Z", "SUMMARY:Lunch",
            "END:VEVENT",
            "END:VCALENDAR",
        ].joined(separator: "\r\n") + "\r\n"
    }

    static let window = ["--from", "2026-01-01", "--to", "2026-03-01T00:00:00Z"]

    @Test func verifyFindsAHandEditedTargetAndIsEqualAfterASync() async throws {
        let config = try ConfigFolder(feed: Self.feed(rule: "FREQ=WEEKLY;COUNT=6"))
        let server = try TargetProcess.start(environmentToken: "secret-token")
        defer { server.stop() }
        try config.subscription("s", collection: "/c", target: server.endpoint)
        #expect(await outboard(["sync", "s"] + config.options).code == 0)

        let equal = await outboard(["verify", "s"] + Self.window + config.options)
        #expect(equal.code == 0, "\(equal.err)")
        #expect(equal.out == "s: equal: 7 instances from 2026-01-01T00:00:00Z to 2026-03-01T00:00:00Z\n")

        // By hand, on the target: the moved instance moves again, the cancelled one is live again,
        // and an EXDATE takes out the instance of 26 January.
        let client = TargetClient(endpoint: server.endpoint, token: "secret-token")
        let entity = try #require(try await client.fetch(uid: "series@x", in: "/c"))
        var edited = try #require(entity.calendar)
        func utc(_ day: Int, _ hour: Int) -> ICalValue {
            .dateTime(ICalDateTime(year: 2026, month: 1, day: day, hour: hour, minute: 0, second: 0, isUTC: true))
        }
        for i in edited.components.indices where edited.components[i].name == "VEVENT" {
            switch edited.components[i].recurrenceID?.value.map(ValueFormatter.icalString) {
            case nil:
                edited.components[i].properties.append(ICalProperty("EXDATE", utc(26, 8)))
            case "20260112T090000":
                edited.components[i].properties.removeAll { $0.name == "DTSTART" || $0.name == "DTEND" }
                edited.components[i].properties += [
                    ICalProperty("DTSTART", utc(12, 13)), ICalProperty("DTEND", utc(12, 14)),
                ]
            case "20260119T090000":
                edited.components[i].properties.removeAll { $0.name == "STATUS" }
            default:
                break
            }
        }
        let current = try #require(entity.calendar)
        _ = try await client.updateItem(
            href: entity.href, changeToken: entity.changeToken, update: Differ.diff(source: edited, target: current))

        let different = await outboard(["verify", "s"] + Self.window + config.options)
        #expect(different.code == 1, "\(different.err)")
        #expect(
            different.out == """
                moved uid=series@x instance=2026-01-12T08:00:00Z feed=2026-01-12T10:00:00Z/2026-01-12T11:00:00Z target=2026-01-12T13:00:00Z/2026-01-12T14:00:00Z
                cancelled-in-feed uid=series@x instance=2026-01-19T08:00:00Z by=STATUS:CANCELLED feed=2026-01-19T08:00:00Z/2026-01-19T09:00:00Z target=2026-01-19T08:00:00Z/2026-01-19T09:00:00Z
                cancelled-on-target uid=series@x instance=2026-01-26T08:00:00Z by=EXDATE feed=2026-01-26T08:00:00Z/2026-01-26T09:00:00Z
                s: 3 differences in 7 instances from 2026-01-01T00:00:00Z to 2026-03-01T00:00:00Z: 1 moved, 1 cancelled-in-feed, 1 cancelled-on-target

                """)

        // A pass that compares every target item with the feed puts the hand edits right.
        #expect(await outboard(["sync", "s", "--reconcile"] + config.options).code == 0)
        let reconciled = await outboard(["verify", "s"] + Self.window + config.options)
        #expect(reconciled.code == 0, "\(reconciled.out)")

        // The feed cuts the series short: the target's later instances are extra until a sync.
        try Self.feed(rule: "FREQ=WEEKLY;UNTIL=20260201T000000Z").write(
            to: config.feed, atomically: true, encoding: .utf8)
        let cut = await outboard(["verify", "s"] + Self.window + config.options)
        #expect(cut.code == 1)
        #expect(
            cut.out.contains(
                "extra uid=series@x instance=2026-02-02T08:00:00Z target=2026-02-02T08:00:00Z/2026-02-02T09:00:00Z\n"))
        #expect(cut.out.contains("extra uid=series@x instance=2026-02-09T08:00:00Z"))
        #expect(await outboard(["sync", "s"] + config.options).code == 0)
        let synced = await outboard(["verify", "s"] + Self.window + config.options)
        #expect(synced.code == 0, "\(synced.out)")
        #expect(synced.out == "s: equal: 5 instances from 2026-01-01T00:00:00Z to 2026-03-01T00:00:00Z\n")
    }

    @Test func anUnknownSubscriptionOrADeadTargetIsAnErrorNamingIt() async throws {
        let config = try ConfigFolder(feed: Self.feed(rule: "FREQ=WEEKLY;COUNT=6"))
        try config.subscription("s", collection: "/c")
        let unknown = await outboard(["verify", "nope"] + config.options)
        #expect(unknown.code == 2)
        #expect(unknown.err.contains("no subscription \"nope\""))
        let dead = await outboard(["verify", "s"] + config.options)
        #expect(dead.code == 2)
        #expect(
            dead.err.hasPrefix("outboard: s: cannot verify: cannot reach the target http://127.0.0.1:1/calws"),
            "\(dead.err)")
        let bad = await outboard(["verify", "s", "--from", "yesterday"] + config.options)
        #expect(bad.code == 2)
        #expect(bad.err.contains("--from yesterday is neither a date"))
    }
}
