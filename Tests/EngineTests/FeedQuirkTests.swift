import CalendarModel
import Engine
import EngineAdapters
import Foundation
import Testing
import TestSupport

/// The fixture feeds beside these tests (`Fixtures/`): feeds from the wild, each with its quirk.
enum EngineFixtures {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent(
        "Fixtures")

    static func bytes(_ name: String) throws -> [UInt8] {
        Array(try Data(contentsOf: directory.appendingPathComponent(name)))
    }
}

/// Feed quirks mirrored end to end: nginx serving the fixture, the real reference target.
@Suite(.serialized) struct FeedQuirkTests {
    /// Office 365 exports one invitation many times: the pass mirrors the latest revision of each,
    /// and says which UIDs came more than once and how many copies it dropped, also in a later
    /// pass that settles those items by their bytes without parsing them.
    @Test func duplicateUIDsAreMirroredOnceAndReported() async throws {
        let bed = try Bed()
        var body = try EngineFixtures.bytes("office365-duplicates.ics")
        try bed.nginx.put("o365.ics", body)
        let s = try bed.subscription("o365", feed: "o365.ics", collection: "/t/o365")
        let invitation = "040000008200E00074C5B7101A82E00800000000D0A3C6B2E1A4DC0100000000000000"
        let first = await bed.pass(s)
        #expect(first.succeeded, "\(String(describing: first.error))")
        #expect(first.added.count == 3)
        #expect(first.duplicates.map(\.key) == [invitation, "series-weekly@o365"])
        #expect(first.duplicates.map(\.dropped) == [3, 1])
        // The latest export of the invitation (its DTSTAMP) is the one mirrored.
        #expect(
            try await bed.summaries("/t/o365") == [
                invitation: "Budgetrunde (verschoben)", "series-weekly@o365": "Jour fixe",
                "single@o365": "Quartalsabschluss",
            ])
        let series = try #require(try await bed.client.fetch(uid: "series-weekly@o365", in: "/t/o365")?.calendar)
        let overrides = series.components.filter { $0.recurrenceID != nil }
        #expect(overrides.count == 1)
        #expect(overrides.first?.property("DTSTAMP")?.value.map(ValueFormatter.icalString) == "20260302T090000Z")

        // Another event changes: the duplicated items are settled by their bytes, still reported.
        body = Array(
            String(decoding: body, as: UTF8.self).replacingOccurrences(
                of: "Quartalsabschluss", with: "Quartalsabschluss (neu)"
            ).utf8)
        try bed.nginx.put("o365.ics", body)
        let second = await bed.pass(s)
        #expect(second.succeeded, "\(String(describing: second.error))")
        #expect(second.updated.map(\.key) == ["single@o365"])
        #expect(second.settledUnparsed == 2, "the duplicated items were parsed again")
        #expect(second.duplicates.map(\.key) == [invitation, "series-weekly@o365"])
        #expect(second.duplicates.map(\.dropped) == [3, 1])
    }

    /// A timetable export whose UIDs (and DTSTAMPs) are new on every request, nginx serving one
    /// export and then the next. With `identity: content` the second pass sends no write and the
    /// target holds the same entities; without it the guard stops the pass, nothing is deleted
    /// or added, and its words name the setting.
    @Test(arguments: [true, false])
    func aFeedWhoseUIDsChangeOnEveryExport(byContent: Bool) async throws {
        let bed = try Bed()
        try bed.nginx.put("timetable.ics", try EngineFixtures.bytes("uids-per-export-1.ics"))
        let s = try bed.subscription(
            "timetable", feed: "timetable.ics", collection: "/t/timetable", extra: byContent ? "identity: content" : "")
        let first = await bed.pass(s)
        #expect(first.succeeded && first.added.count == 4, "\(String(describing: first.error))")
        let entities = try await bed.client.list(collection: "/t/timetable").map { "\($0.href) \($0.changeToken)" }
        let mirrored = try await bed.summaries("/t/timetable")
        #expect(
            mirrored.count == 4
                && mirrored.values.sorted() == ["Biology", "History", "Mathematics", "Parents' evening"])

        try bed.nginx.put("timetable.ics", try EngineFixtures.bytes("uids-per-export-2.ics"))
        let second = await bed.pass(s)
        #expect(!second.notModified, "a new export is a new body")
        #expect(second.added.isEmpty && second.updated.isEmpty && second.deleted.isEmpty)
        if byContent {
            #expect(second.succeeded && second.unchanged == 4, "\(String(describing: second.error))")
            #expect(second.copiesFetched == 0, "a new UID alone does not change an item's hash")
        } else {
            #expect(
                second.error?.hasSuffix(
                    "looks like a feed whose UIDs change on every export; set identity: content in timetable.yaml (nothing was deleted or added; if the items really were replaced, raise guard.max-delete-fraction)"
                ) == true, "\(String(describing: second.error))")
            #expect(second.errorKind == .guard)
        }
        #expect(
            try await bed.client.list(collection: "/t/timetable").map { "\($0.href) \($0.changeToken)" } == entities,
            "the same entities, none written")
        #expect(try await bed.summaries("/t/timetable") == mirrored)
    }
}
