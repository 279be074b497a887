import CalendarModel
import CalWS
import Engine
import EngineAdapters
import Filters
import Foundation
import SyncCore
import Testing
import TestSupport

/// How a pass behaves, on the in-memory seams (milliseconds, no server process): deletions and
/// overrides, series splits, the deletion guards, a dead target, a malformed feed, reconciles,
/// batches, trust-lastmod and items settled by their bytes.
@Suite struct PassBehaviourTests {
    @Test func removedEventsAndOverridesAreDeleted() async throws {
        let bed = try MemoryBed()
        let series = [
            "BEGIN:VEVENT", "UID:training@club", "DTSTART:20260302T180000Z", "DTEND:20260302T193000Z",
            "RRULE:FREQ=WEEKLY;COUNT=10", "SUMMARY:Training", "END:VEVENT",
        ]
        let moved = [
            "BEGIN:VEVENT", "UID:training@club", "RECURRENCE-ID:20260309T180000Z", "DTSTART:20260310T180000Z",
            "DTEND:20260310T193000Z", "SUMMARY:Training (Tuesday)", "END:VEVENT",
        ]
        bed.put("f.ics", feed([match(1), match(2), match(3), series, moved]))
        let s = try bed.subscription("s", feed: "f.ics", collection: "/t/c")
        #expect(await bed.pass(s).succeeded)
        bed.put("f.ics", feed([match(1), match(2), series]))
        let r = await bed.pass(s)
        #expect(r.succeeded)
        #expect(r.deleted == ["match-3@club"])
        #expect(r.updated.map(\.key) == ["training@club"], "the vanished override is an edit of the series")
        let entity = try #require(try await bed.client.find(uid: "training@club", in: "/t/c"))
        #expect(entity.calendar?.components.filter { $0.recurrenceID != nil }.isEmpty == true)
        #expect(Set(bed.summaries("/t/c").keys) == ["match-1@club", "match-2@club", "training@club"])
    }

    @Test func aSplitSeriesLeavesNoOrphanOverrides() async throws {
        let bed = try MemoryBed()
        let master = [
            "BEGIN:VEVENT", "UID:old@club", "DTSTART:20260302T180000Z", "DTEND:20260302T193000Z",
            "RRULE:FREQ=WEEKLY;COUNT=10", "SUMMARY:Training", "END:VEVENT",
        ]
        let early = [
            "BEGIN:VEVENT", "UID:old@club", "RECURRENCE-ID:20260309T180000Z", "DTSTART:20260309T190000Z",
            "SUMMARY:Training (late)", "END:VEVENT",
        ]
        let late = [
            "BEGIN:VEVENT", "UID:old@club", "RECURRENCE-ID:20260420T180000Z", "DTSTART:20260420T190000Z",
            "SUMMARY:Training (late)", "END:VEVENT",
        ]
        bed.put("f.ics", feed([master, early, late]))
        let s = try bed.subscription("s", feed: "f.ics", collection: "/t/split")
        #expect(await bed.pass(s).succeeded)
        // "This and following": the old series ends at UNTIL, a new UID carries on; the override
        // after UNTIL belongs to no instance any more and the feed no longer has it.
        let ended = master.map { $0.hasPrefix("RRULE") ? "RRULE:FREQ=WEEKLY;UNTIL=20260330T000000Z" : $0 }
        let carriedOn = [
            "BEGIN:VEVENT", "UID:new@club", "DTSTART:20260406T170000Z", "DTEND:20260406T183000Z",
            "RRULE:FREQ=WEEKLY;COUNT=6", "SUMMARY:Training (new time)", "END:VEVENT",
        ]
        bed.put("f.ics", feed([carriedOn, ended, early]))
        let r = await bed.pass(s)
        #expect(r.succeeded)
        #expect(r.added == ["new@club"])
        let old = try #require(try await bed.client.find(uid: "old@club", in: "/t/split"))
        let rids = old.calendar?.components.compactMap { $0.recurrenceID?.value.map(ValueFormatter.icalString) } ?? []
        #expect(rids == ["20260309T180000Z"], "the override after UNTIL was removed")
    }

    @Test func anEmptiedFeedTripsTheGuardAndNothingIsDeleted() async throws {
        let bed = try MemoryBed()
        bed.put("f.ics", feed([match(1), match(2), match(3), match(4)]))
        let s = try bed.subscription("s", feed: "f.ics", collection: "/t/guard")
        #expect(await bed.pass(s).succeeded)
        let etag = try bed.store.feed("s").etag
        bed.put("f.ics", feed([]))
        let r = await bed.pass(s)
        #expect(!r.succeeded)
        #expect(r.error?.contains("guard.allow-empty") == true)
        #expect(r.deleted.isEmpty)
        #expect(bed.summaries("/t/guard").count == 4)
        #expect(try bed.store.feed("s").etag == etag, "the validators were not advanced")
        #expect(try bed.store.feed("s").failures == 1)
        // Far fewer items: the fraction guard.
        bed.put("f.ics", feed([match(1)]))
        let fewer = await bed.pass(s)
        #expect(fewer.error?.contains("guard.max-delete-fraction") == true)
        #expect(bed.summaries("/t/guard").count == 4)
        // Allowed explicitly, it goes through.
        let allowing = try bed.subscription(
            "s", feed: "f.ics", collection: "/t/guard", extra: "guard:\n  max-delete-fraction: 1")
        #expect(await bed.pass(allowing).succeeded)
        #expect(bed.summaries("/t/guard").count == 1)
    }

    @Test func aDeadTargetFailsThePassAndTheNextPassCompletes() async throws {
        let bed = try MemoryBed()
        bed.put("f.ics", feed([match(1), match(2)]))
        let s = try bed.subscription("s", feed: "f.ics", collection: "/t/down")
        #expect(await bed.pass(s).succeeded)
        let etag = try bed.store.feed("s").etag
        bed.put("f.ics", feed([match(1, summary: "changed"), match(2), match(3)]))
        bed.switchable.isDown = true
        let failed = await bed.pass(s)
        #expect(!failed.succeeded)
        #expect(try bed.store.feed("s").etag == etag, "validators unchanged after a failed pass")
        #expect(try bed.store.feed("s").lastError != nil)
        bed.switchable.isDown = false
        let next = await bed.pass(s)
        #expect(next.succeeded, "\(String(describing: next.error)) \(next.failed)")
        #expect(
            bed.summaries("/t/down") == [
                "match-1@club": "changed", "match-2@club": "Match 2", "match-3@club": "Match 3",
            ])
        #expect(try bed.store.feed("s").failures == 0)
    }

    @Test func aMalformedFeedIsAnErrorAndTheTargetIsUntouched() async throws {
        let bed = try MemoryBed()
        bed.put("f.ics", feed([match(1)]))
        let s = try bed.subscription("s", feed: "f.ics", collection: "/t/bad")
        #expect(await bed.pass(s).succeeded)
        let tokens = try await bed.client.list(collection: "/t/bad").map(\.version)
        bed.put("f.ics", Array("<!DOCTYPE html><html><body>Maintenance</body></html>".utf8))
        let r = await bed.pass(s)
        #expect(r.error?.contains("cannot be read") == true)
        #expect(try bed.store.feed("s").lastError?.contains("not iCalendar") == true)
        #expect(try await bed.client.list(collection: "/t/bad").map(\.version) == tokens)
        // And a feed that is not there at all: the HTTP status is named.
        let missing = try bed.subscription("m", feed: "nope.ics", collection: "/t/bad2")
        #expect(await bed.pass(missing).error?.contains("HTTP 404") == true)
    }

    @Test func aReconcileRevertsEditsMadeOnTheTargetAndRemovesStrangers() async throws {
        let bed = try MemoryBed()
        bed.put("f.ics", feed([match(1), match(2), match(3)]))
        let s = try bed.subscription("s", feed: "f.ics", collection: "/t/rec")
        #expect(await bed.pass(s).succeeded)
        // Someone edits an item on the target, and adds one by hand.
        let entity = try #require(try await bed.client.find(uid: "match-1@club", in: "/t/rec"))
        var edited = try #require(entity.calendar)
        edited.components[0].properties = edited.components[0].properties.map {
            $0.name == "SUMMARY" ? ICalProperty("SUMMARY", .text("Edited on the target")) : $0
        }
        let update = Differ.diff(
            source: ItemGrouper.items(from: ICalDocument(calendars: [edited])).items[0],
            target: ItemGrouper.items(from: ICalDocument(calendars: [entity.calendar!])).items[0])
        try await bed.client.apply(.update(href: entity.href, version: entity.version, changes: update))
        let stranger = ICalComponent(
            name: "VCALENDAR",
            components: [
                ICalComponent(
                    name: "VEVENT",
                    properties: [ICalProperty("UID", .text("hand@x")), ICalProperty("SUMMARY", .text("By hand"))])
            ])
        try await bed.client.apply(.add(collection: "/t/rec", calendar: stranger))

        let normal = await bed.pass(s)
        #expect(normal.notModified, "the feed did not change: a normal pass does not look at the target")
        #expect(bed.summaries("/t/rec")["match-1@club"] == "Edited on the target")

        let r = await bed.pass(s, reconcile: true)
        #expect(r.succeeded, "\(String(describing: r.error)) \(r.failed)")
        #expect(r.updated.map(\.key) == ["match-1@club"])
        #expect(r.deleted == ["hand@x"])
        #expect(r.unchanged == 2)
        #expect(
            bed.summaries("/t/rec") == [
                "match-1@club": "Match 1", "match-2@club": "Match 2", "match-3@club": "Match 3",
            ])
    }

    /// Copies fetched in several batches at once are each planned against their own batch: every
    /// changed item goes as an updateItem in one multiOp per batch, none as an addItem.
    @Test func manyChangedItemsInSeveralBatchesAreUpdatedInPlace() async throws {
        let bed = try MemoryBed()
        bed.put("f.ics", feed((1...7).map { match($0) }))
        let s = try bed.subscription("s", feed: "f.ics", collection: "/t/batches")
        #expect(await bed.pass(s, batchSize: 2).succeeded)
        let addsBefore = bed.memory.operations["add"]
        bed.put("f.ics", feed((1...7).map { match($0, summary: "Moved \($0)") }))
        let r = await bed.pass(s, batchSize: 2)
        #expect(r.succeeded && r.updated.count == 7, "\(String(describing: r.error)) \(r.failed)")
        #expect(bed.memory.operations["add"] == addsBefore, "no item was sent as new")
        #expect(
            bed.memory.operations["update"] == 7,
            "every update applied at the first try (a refused batch is redone one by one)")
        #expect(
            bed.summaries("/t/batches")
                == Dictionary(uniqueKeysWithValues: (1...7).map { ("match-\($0)@club", "Moved \($0)") }))
    }

    @Test func aScheduledReconcileRunsWhenItsIntervalHasPassed() async throws {
        let bed = try MemoryBed()
        bed.put("f.ics", feed([match(1)]))
        let s = try bed.subscription("s", feed: "f.ics", collection: "/t/sched", extra: "reconcile: 10m")
        let t0 = Date()
        let first = await bed.pass(s, now: t0)
        #expect(first.succeeded && !first.reconciled, "the first pass starts the reconcile's clock")
        let entity = try #require(try await bed.client.find(uid: "match-1@club", in: "/t/sched"))
        try await bed.client.apply(.delete(href: entity.href, version: nil))  // removed on the target by hand
        let soon = await bed.pass(s, now: t0.addingTimeInterval(300))
        #expect(soon.notModified && !soon.reconciled)
        #expect(bed.summaries("/t/sched").isEmpty)
        let later = await bed.pass(s, now: t0.addingTimeInterval(660))
        #expect(later.reconciled && later.succeeded, "\(String(describing: later.error))")
        #expect(later.added == ["match-1@club"], "the item deleted on the target is restored")
        #expect(bed.summaries("/t/sched") == ["match-1@club": "Match 1"])
    }

    @Test func trustLastmodSkipsFetchingTheTargetCopyAndStillCatchesTargetEdits() async throws {
        let bed = try MemoryBed()
        bed.put("f.ics", feed([match(1), match(2)]))
        let s = try bed.subscription("s", feed: "f.ics", collection: "/t/trust", extra: "trust-lastmod: true")
        #expect(await bed.pass(s).succeeded)
        // The status store records the target's LAST-MODIFIED of each item it wrote.
        let recorded = try bed.store.items(s.id)
        #expect(
            recorded.count == 2 && recorded.values.allSatisfy { $0.lastModified?.hasSuffix("Z") == true }, "\(recorded)"
        )
        bed.put("f.ics", feed([match(1, summary: "Changed once"), match(2)]))
        let r = await bed.pass(s)
        #expect(r.succeeded && r.updated.map(\.key) == ["match-1@club"])
        #expect(r.copiesFetched == 0, "the target's LAST-MODIFIED was the one recorded: no copy was fetched")
        // Someone edits match-2 on the target (its LAST-MODIFIED moves); then the feed changes it
        // too: the new LAST-MODIFIED has the copy fetched and diffed, and the feed wins.
        try await bed.comment("match-2@club", in: "/t/trust", "added on the target")
        bed.put("f.ics", feed([match(1, summary: "Changed once"), match(2, summary: "Changed in the feed")]))
        let second = await bed.pass(s)
        #expect(second.succeeded, "\(String(describing: second.error)) \(second.failed)")
        #expect(second.copiesFetched == 1)
        let now = try #require(try await bed.client.find(uid: "match-2@club", in: "/t/trust"))
        let master = now.calendar?.components.first { $0.name == "VEVENT" }
        #expect(master?.property("SUMMARY")?.text == "Changed in the feed")
        #expect(master?.property("COMMENT") == nil, "the target's own edit was replaced by the feed")
        // An edit the LAST-MODIFIED cannot show (within the same second as the engine's write)
        // is still caught by the change token: refused, refetched, diffed again.
        let again = try await bed.comment("match-2@club", in: "/t/trust", "same second")
        var state = try #require(try bed.store.items(s.id)["match-2@club"])
        state.lastModified = try await bed.client.entries(collection: "/t/trust", hrefs: [again.href], withData: false)
            .first?.lastModified
        try bed.store.commit(s.id, put: [state], remove: [])
        bed.put("f.ics", feed([match(1, summary: "Changed once"), match(2, summary: "Changed twice in the feed")]))
        let third = await bed.pass(s)
        #expect(third.succeeded && third.copiesFetched == 0)
        let last = try #require(
            try await bed.client.find(uid: "match-2@club", in: "/t/trust")?.calendar?.components.first {
                $0.name == "VEVENT"
            })
        #expect(last.property("SUMMARY")?.text == "Changed twice in the feed" && last.property("COMMENT") == nil)
    }

    @Test func unchangedItemsAreRecognizedByTheirBytesAndOnlyTheOthersAreParsed() async throws {
        let bed = try MemoryBed()
        let secondAlarm = ["BEGIN:VALARM", "ACTION:DISPLAY", "TRIGGER:-PT2H", "END:VALARM"]
        bed.put("f.ics", feed([match(1), match(2), match(3)]))
        let s = try bed.subscription("s", feed: "f.ics", collection: "/t/bytes")
        let first = await bed.pass(s)
        #expect(first.succeeded && first.added.count == 3 && first.settledUnparsed == 0)
        // match-2 changes, the others move: their bytes are their own wherever they stand.
        bed.put("f.ics", feed([match(3), match(2, summary: "Moved"), match(1)]))
        let second = await bed.pass(s)
        #expect(second.succeeded && second.updated.map(\.key) == ["match-2@club"], "\(second.updated)")
        #expect(second.settledUnparsed == 2 && second.unchanged == 2)
        // match-1's bytes change but not what is synced (its alarms are stripped by the filter):
        // it is parsed, found unchanged, and its new bytes are recorded.
        bed.put("f.ics", feed([match(3), match(2, summary: "Moved"), match(1, extra: secondAlarm)]))
        let third = await bed.pass(s)
        #expect(third.succeeded && third.updated.isEmpty && third.unchanged == 3 && third.settledUnparsed == 2)
        bed.put("f.ics", feed([match(3, summary: "Third"), match(2, summary: "Moved"), match(1, extra: secondAlarm)]))
        let fourth = await bed.pass(s)
        #expect(fourth.succeeded && fourth.updated.map(\.key) == ["match-3@club"] && fourth.settledUnparsed == 2)
        // Another filter text: every item is parsed again.
        bed.put(
            "f.ics", feed([match(3, summary: "Third"), match(2, summary: "Moved again"), match(1, extra: secondAlarm)]))
        let edited = try FilterLoader.load(
            name: "strip-alarms", text: "# edited\nstage: input\nrules:\n  - remove-component: VALARM\n",
            file: "strip-alarms.yaml"
        ).get()
        let fifth = await bed.pass(s, pipeline: FilterPipeline(input: [edited], output: []))
        #expect(fifth.succeeded && fifth.settledUnparsed == 0 && fifth.updated.map(\.key) == ["match-2@club"])
        #expect(
            bed.summaries("/t/bytes") == [
                "match-1@club": "Match 1", "match-2@club": "Moved again", "match-3@club": "Third",
            ])
    }

    @Test func fiveSubscriptionsIntoFiveCollections() async throws {
        let bed = try MemoryBed()
        for i in 1...5 {
            bed.put("f\(i).ics", feed((1...i).map { match($0, summary: "Feed \(i) match \($0)") }))
            let r = await bed.pass(try bed.subscription("s\(i)", feed: "f\(i).ics", collection: "/t/five/\(i)"))
            #expect(r.succeeded && r.added.count == i)
        }
        for i in 1...5 {
            let s = bed.summaries("/t/five/\(i)")
            #expect(s.count == i && s.values.allSatisfy { $0.hasPrefix("Feed \(i) ") })
        }
    }

    @Test func everyPassTellsTheTargetHowFreshTheMirrorIs() async throws {
        let bed = try MemoryBed()
        bed.put("f.ics", feed([match(1)]))
        let s = try bed.subscription("s", feed: "f.ics", collection: "/t/fresh", extra: "refresh: 2h")
        let t0 = Date(timeIntervalSince1970: 1_800_000_000)
        #expect(await bed.pass(s, now: t0).succeeded)
        var told = try #require(bed.memory.freshness["/t/fresh"])
        #expect(told.subscription == "s" && told.refreshInterval == 7200)
        #expect(told.lastSuccess == .utc(t0) && told.lastAttempt == .utc(t0) && told.lastError == nil)

        // A 304 is a success too.
        let t1 = t0.addingTimeInterval(7200)
        #expect(await bed.pass(s, now: t1).succeeded)
        told = try #require(bed.memory.freshness["/t/fresh"])
        #expect(told.lastSuccess == .utc(t1))

        // A feed that fails: the target hears the error, and the last success stays.
        bed.put("f.ics", Array("<html>Maintenance</html>".utf8))
        let t2 = t1.addingTimeInterval(7200)
        #expect(await !bed.pass(s, now: t2).succeeded)
        told = try #require(bed.memory.freshness["/t/fresh"])
        #expect(told.lastSuccess == .utc(t1) && told.lastAttempt == .utc(t2))
        #expect(told.lastError?.contains("not iCalendar") == true)

        // A target that cannot be reached is not told (nothing would reach it).
        bed.put("f.ics", feed([match(1, summary: "changed")]))
        bed.switchable.isDown = true
        #expect(await !bed.pass(s, now: t2.addingTimeInterval(60)).succeeded)
        #expect(bed.memory.freshness["/t/fresh"]?.lastAttempt == .utc(t2))
    }
}
