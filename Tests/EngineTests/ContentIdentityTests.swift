import CalendarModel
import Engine
import EngineAdapters
import Foundation
import Testing
import TestSupport

/// `identity: content` for feeds whose UIDs change on every export, on the in-memory seams: the
/// same events under new UIDs are no change, an override stays with its series, two items of one
/// content are reported as duplicates, and changing the setting keeps the mirror whole.
@Suite struct ContentIdentityTests {
    /// An export of the feed: every UID carries the export's number, as providers that make up
    /// UIDs per request do.
    static func export(_ n: Int, location: String = "Hall", moved: String = "Training (Tuesday)") -> [UInt8] {
        let series = [
            "BEGIN:VEVENT", "UID:series-\(n)@provider", "DTSTART:20260302T180000Z", "DTEND:20260302T193000Z",
            "RRULE:FREQ=WEEKLY;COUNT=10", "SUMMARY:Training", "END:VEVENT",
            "BEGIN:VEVENT", "UID:series-\(n)@provider", "RECURRENCE-ID:20260309T180000Z",
            "DTSTART:20260310T180000Z", "DTEND:20260310T193000Z", "SUMMARY:\(moved)", "END:VEVENT",
        ]
        let singles = (1...3).map { i in
            [
                "BEGIN:VEVENT", "UID:\(n)-\(i)@provider", "DTSTAMP:2026010\(n)T000000Z", "DTSTART:2026040\(i)T150000Z",
                "SUMMARY:Match \(i)", "LOCATION:\(i == 1 ? location : "Hall")", "END:VEVENT",
            ]
        }
        return feed(singles + [series])
    }

    static let identity = "identity: content"

    @Test func theSameEventsUnderNewUIDsSendNothingAndTheTargetKeepsTheFirstUIDs() async throws {
        let bed = try MemoryBed()
        bed.put("f.ics", Self.export(1))
        let s = try bed.subscription("s", feed: "f.ics", collection: "/t/content", extra: Self.identity)
        let first = await bed.pass(s)
        #expect(first.succeeded && first.added.count == 4, "\(String(describing: first.error))")
        let mirrored = bed.summaries("/t/content")
        let writes = bed.memory.operations
        #expect(Set(mirrored.keys) == ["1-1@provider", "1-2@provider", "1-3@provider", "series-1@provider"])

        bed.put("f.ics", Self.export(2))
        let second = await bed.pass(s)
        #expect(second.succeeded && !second.notModified, "\(String(describing: second.error))")
        #expect(second.added.isEmpty && second.updated.isEmpty && second.deleted.isEmpty && second.unchanged == 4)
        #expect(bed.memory.operations == writes, "no write at all")
        #expect(second.copiesFetched == 0, "a new UID alone does not change an item's hash")
        #expect(bed.summaries("/t/content") == mirrored)

        // A real change, in an item and in an override: updates under the UIDs the target keeps.
        bed.put("f.ics", Self.export(3, location: "Stadium", moved: "Training (Wednesday)"))
        let third = await bed.pass(s)
        #expect(third.succeeded, "\(String(describing: third.error))")
        #expect(third.added.isEmpty && third.deleted.isEmpty && third.updated.count == 2)
        #expect(bed.summaries("/t/content") == mirrored)
        let match = try #require(try await bed.client.find(uid: "1-1@provider", in: "/t/content")?.calendar)
        #expect(match.components.first { $0.name == "VEVENT" }?.property("LOCATION")?.text == "Stadium")
        let series = try #require(try await bed.client.find(uid: "series-1@provider", in: "/t/content")?.calendar)
        #expect(
            series.components.compactMap { $0.recurrenceID != nil ? $0.property("SUMMARY")?.text : nil } == [
                "Training (Wednesday)"
            ])
        #expect(try bed.store.items("s").keys.allSatisfy { $0.hasPrefix("content:") })
    }

    @Test func twoItemsOfOneContentAreDuplicatesAndReported() async throws {
        let bed = try MemoryBed()
        let copy = ["BEGIN:VEVENT", "UID:copy@provider", "DTSTART:20260401T150000Z", "SUMMARY:Match 1", "END:VEVENT"]
        let other = ["BEGIN:VEVENT", "UID:zz@provider", "DTSTART:20260401T150000Z", "SUMMARY:Match 1", "END:VEVENT"]
        bed.put("f.ics", feed([copy, other, match(2)]))
        let s = try bed.subscription("s", feed: "f.ics", collection: "/t/dups", extra: Self.identity)
        let r = await bed.pass(s)
        #expect(r.succeeded && r.added.count == 2, "\(String(describing: r.error))")
        #expect(r.duplicates.count == 1 && r.duplicates.first?.dropped == 1, "\(r.duplicates)")
        let kept = try #require(r.duplicates.first?.key)
        #expect(["copy@provider", "zz@provider"].contains(kept))
        #expect(bed.summaries("/t/dups").keys.contains(kept))
        // The choice does not depend on the feed's order.
        bed.put("f.ics", feed([other, copy, match(2)]))
        #expect(await bed.pass(s, reconcile: true).duplicates.first?.key == kept)
    }

    /// Changing `identity` of a subscription with a mirror, or losing its status store: the next
    /// pass lists the target and matches its entities to the feed's items again; nothing is
    /// lost, nothing added twice.
    @Test func changingTheSettingKeepsTheMirrorWhole() async throws {
        let bed = try MemoryBed()
        bed.put("f.ics", Self.export(1))
        let byUID = try bed.subscription("s", feed: "f.ics", collection: "/t/switch")
        #expect(await bed.pass(byUID).added.count == 4)
        let mirrored = bed.summaries("/t/switch")
        let byContent = try bed.subscription("s", feed: "f.ics", collection: "/t/switch", extra: Self.identity)
        bed.put("f.ics", Self.export(2))
        let switched = await bed.pass(byContent)
        #expect(switched.succeeded, "\(String(describing: switched.error))")
        #expect(switched.added.isEmpty && switched.updated.isEmpty && switched.deleted.isEmpty, "\(switched.added)")
        #expect(switched.diagnostics.contains { $0.contains("identity is now content") })
        #expect(bed.summaries("/t/switch") == mirrored)
        #expect(try bed.store.items("s").keys.allSatisfy { $0.hasPrefix("content:") })
        bed.put("f.ics", Self.export(3))
        let next = await bed.pass(byContent)
        #expect(next.succeeded && next.added.isEmpty && next.deleted.isEmpty && next.diagnostics.isEmpty)
        // The status store lost: the first pass adopts the target's entities by content.
        try bed.store.commit("s", put: [], remove: Array(try bed.store.items("s").keys))
        try bed.store.save("s", FeedState())
        bed.put("f.ics", Self.export(5))
        let adopted = await bed.pass(byContent)
        #expect(adopted.succeeded && adopted.added.isEmpty && adopted.deleted.isEmpty && adopted.unchanged == 4)
        #expect(bed.summaries("/t/switch") == mirrored)
        // And back to UIDs: the target's entities are known by their UIDs again; the feed's new
        // UIDs then look like a feed whose UIDs change, and the guard says so.
        bed.put("f.ics", Self.export(4))
        let back = await bed.pass(byUID)
        #expect(back.error?.contains("set identity: content in s.yaml") == true, "\(String(describing: back.error))")
        #expect(back.added.isEmpty && back.deleted.isEmpty)
        #expect(bed.summaries("/t/switch") == mirrored)
    }
}
