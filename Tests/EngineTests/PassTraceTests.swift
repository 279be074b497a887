import CalendarModel
import Engine
import EngineAdapters
import Filters
import Foundation
import Testing

/// What a pass records for `outboard explain`, on the in-memory seams: an item dropped by a
/// filter, added, updated with its field edits, settled because the target already matched,
/// refused by the target, deleted, and left alone (no row: explained from its stored state).
@Suite struct PassTraceTests {
    static let first = Date(timeIntervalSince1970: 1_800_000_000)
    static let second = Date(timeIntervalSince1970: 1_800_003_600)
    static let stripAlarms = "filter strip-alarms rule 1 (remove component VALARM): 1 change"

    /// The bed's strip-alarms filter, and one that drops board meetings.
    func pipeline(_ bed: MemoryBed) throws -> FilterPipeline {
        let noBoards = try FilterLoader.load(
            name: "no-boards",
            text: "stage: input\nrules:\n  - drop: true\n    when: { property: SUMMARY, matches: Board }\n",
            file: "no-boards.yaml"
        ).get()
        return FilterPipeline(input: [try #require(bed.filters["strip-alarms"]), noBoards], output: [])
    }

    func pass(_ bed: MemoryBed, _ s: Subscription, now: Date) async throws -> SyncReport {
        await bed.pass(s, now: now, pipeline: try pipeline(bed))
    }

    @Test func aPassTracesWhatTheFiltersDroppedWhatItAddedAndWhatItUpdated() async throws {
        let bed = try MemoryBed()
        let s = try bed.subscription("s", feed: "f.ics", collection: "/t/trace")
        #expect(try bed.store.trace("s", key: "match-1@club") == nil, "no pass, no trace")
        bed.put("f.ics", feed([match(1), match(2, summary: "Board meeting"), match(3)]))
        #expect(try await pass(bed, s, now: Self.first).succeeded)

        let dropped = try #require(try bed.store.trace("s", key: "match-2@club"))
        #expect(dropped.pass == Self.first)
        #expect(
            dropped.item
                == ItemTrace(
                    key: "match-2@club", outcome: .dropped, rules: ["filter no-boards rule 1 (line 3): dropped"]))
        #expect(
            try bed.store.trace("s", key: "match-1@club")?.item
                == ItemTrace(key: "match-1@club", outcome: .added, rules: [Self.stripAlarms], answer: "ok"))

        // The next pass replaces the trace: the changed item's edits, the dropped one again, and
        // nothing for the item left alone (settled by its bytes).
        bed.put("f.ics", feed([match(1, summary: "Final"), match(2, summary: "Board meeting"), match(3)]))
        let r = try await pass(bed, s, now: Self.second)
        #expect(r.succeeded && r.settledUnparsed == 1, "\(r)")
        #expect(
            try bed.store.trace("s", key: "match-1@club")
                == PassTrace(
                    pass: Self.second,
                    item: ItemTrace(
                        key: "match-1@club", outcome: .updated, rules: [Self.stripAlarms],
                        edits: [#"~ VEVENT uid=match-1@club SUMMARY "Match 1" -> "Final""#], answer: "ok")))
        #expect(try bed.store.trace("s", key: "match-2@club")?.item?.outcome == .dropped)
        #expect(try bed.store.trace("s", key: "match-3@club") == PassTrace(pass: Self.second, item: nil))
    }

    @Test func aChangedItemTheTargetAlreadyMatchesIsSettledAndNothingIsSent() async throws {
        let bed = try MemoryBed()
        let s = try bed.subscription("s", feed: "f.ics", collection: "/t/settle")
        bed.put("f.ics", feed([match(1), match(2)]))
        #expect(try await pass(bed, s, now: Self.first).succeeded)
        // Someone makes the target's copy what the feed is about to say.
        let e = try #require(try await bed.client.find(uid: "match-1@club", in: "/t/settle"))
        bed.memory.edit(href: e.href) { c in
            c.components[0].properties.removeAll { $0.name == "SUMMARY" }
            c.components[0].properties.append(ICalProperty("SUMMARY", .text("Final")))
        }
        let updates = bed.memory.operations["update", default: 0]
        bed.put("f.ics", feed([match(1, summary: "Final"), match(2)]))
        #expect(try await pass(bed, s, now: Self.second).succeeded)
        #expect(bed.memory.operations["update", default: 0] == updates, "nothing was sent")
        #expect(
            try bed.store.trace("s", key: "match-1@club")?.item
                == ItemTrace(key: "match-1@club", outcome: .matched, rules: [Self.stripAlarms]))
    }

    @Test func anItemTheTargetRefusesIsTracedWithTheTargetsAnswerAndADeletionToo() async throws {
        let bed = try MemoryBed()
        let s = try bed.subscription("s", feed: "f.ics", collection: "/t/refuse")
        bed.put("f.ics", feed([match(1), match(2), match(3)]))
        #expect(try await pass(bed, s, now: Self.first).succeeded)
        bed.switchable.refusing = ["match-4@club"]
        bed.put("f.ics", feed([match(1), match(2), match(4)]))
        let r = try await pass(bed, s, now: Self.second)
        #expect(r.failed.map(\.key) == ["match-4@club"] && r.deleted == ["match-3@club"], "\(r)")
        let refused = try #require(try bed.store.trace("s", key: "match-4@club")?.item)
        #expect(refused.outcome == .failed)
        #expect(
            refused.answer
                == "the entity match-4@club is over the target's limit",
            "\(refused)")
        #expect(
            try bed.store.trace("s", key: "match-3@club")?.item
                == ItemTrace(key: "match-3@club", outcome: .deleted, answer: "ok"))
    }
}
