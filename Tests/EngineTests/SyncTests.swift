import CalendarModel
import CalWS
import Engine
import Filters
import Foundation
import SyncCore
import Testing
import TestSupport
import YAMLConfig

/// A feed as iCalendar bytes.
func feed(_ events: [[String]]) -> [UInt8] {
    let lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Feed//EN"] + events.flatMap { $0 } + ["END:VCALENDAR"]
    return Array((lines.joined(separator: "\r\n") + "\r\n").utf8)
}

func match(_ n: Int, summary: String? = nil, extra: [String] = []) -> [String] {
    ["BEGIN:VEVENT", "UID:match-\(n)@club", "DTSTAMP:20260101T000000Z", "DTSTART:202603\(n < 10 ? "0" : "")\(n)T150000Z",
     "DTEND:202603\(n < 10 ? "0" : "")\(n)T170000Z", "SUMMARY:\(summary ?? "Match \(n)")", "LOCATION:Hall",
     "BEGIN:VALARM", "ACTION:DISPLAY", "TRIGGER:-PT1H", "END:VALARM"] + extra + ["END:VEVENT"]
}

/// A test bed: nginx serving feeds, the real outboard-target, a status store, and a subscription.
final class Bed: @unchecked Sendable {
    let nginx: NginxProcess
    var target: TargetProcess
    let state: URL
    let store: StatusStore
    let filters: [String: Filter]

    init() throws {
        nginx = try NginxProcess.start()
        target = try TargetProcess.start()
        state = TargetProcess.temporaryDirectory()
        store = try StatusStore(directory: state.path)
        let stripAlarms = try FilterLoader.load(name: "strip-alarms", text: "stage: input\nrules:\n  - remove-component: VALARM\n", file: "strip-alarms.yaml").get()
        filters = ["strip-alarms": stripAlarms]
    }

    deinit {
        nginx.stop()
        target.stop()
    }

    var env: [String: String] { ["TEST_TARGET_TOKEN": TargetProcess.token] }

    func subscription(_ id: String, feed: String, collection: String, extra: String = "") throws -> Subscription {
        let yaml = """
        source:
          url: \(nginx.url(feed))
        target:
          url: \(target.endpoint)
          collection: \(collection)
          token-env: TEST_TARGET_TOKEN
        filters:
          input: [strip-alarms]
        \(extra)
        """
        return try SubscriptionLoader.load(id: id, text: yaml, file: "\(id).yaml", filters: filters, environment: env).get()
    }

    var client: TargetClient { TargetClient(endpoint: target.endpoint, token: TargetProcess.token) }

    func pass(_ s: Subscription, now: Date = Date(), reconcile: Bool = false, batchSize: Int? = nil) async -> SyncReport {
        var sub = s
        sub.targetURL = target.endpoint // a restarted target listens elsewhere
        let pipeline = FilterPipeline(input: s.inputFilters.compactMap { filters[$0] }, output: [])
        var pass = SyncPass(subscription: sub, filters: pipeline, store: store, target: client)
        if let batchSize { pass.batchSize = batchSize }
        return await pass.run(now: now, reconcile: reconcile)
    }

    /// Someone else edits an entity on the target: a COMMENT is added to its first component.
    /// Returns the entity as it was before.
    @discardableResult
    func comment(_ uid: String, in collection: String, _ text: String) async throws -> EntityInfo {
        let e = try #require(try await client.fetch(uid: uid, in: collection))
        let before = try #require(e.calendar)
        var edited = before
        edited.components[0].properties.append(ICalProperty("COMMENT", .text(text)))
        _ = try await client.updateItem(href: e.href, changeToken: e.changeToken,
                                        update: Differ.diff(source: ItemGrouper.items(from: ICalDocument(calendars: [edited])).items[0],
                                                            target: ItemGrouper.items(from: ICalDocument(calendars: [before])).items[0]))
        return e
    }

    /// The target's metric lines that start with `prefix`.
    func metrics(_ prefix: String) async throws -> [String] {
        let text = String(decoding: try await CurlHTTPClient().send(HTTPRequest(url: target.base + "/metrics")).body, as: UTF8.self)
        return text.split(separator: "\n").map(String.init).filter { $0.hasPrefix(prefix) }
    }

    /// The target's entities of a collection as (UID, summary of the master) pairs.
    func summaries(_ collection: String) async throws -> [String: String] {
        var out: [String: String] = [:]
        for e in try await client.list(collection: collection, allData: true) {
            let master = e.calendar?.components.first { $0.name == "VEVENT" && $0.recurrenceID == nil }
            out[e.calendar?.components.first?.uid ?? "?"] = master?.property("SUMMARY")?.text ?? "(no master)"
        }
        return out
    }
}

@Suite(.serialized) struct SyncTests {
    @Test func initialLoadThenAnUnchangedFeedIsA304WithNoTargetWrite() async throws {
        let bed = try Bed()
        try bed.nginx.put("f.ics", feed([match(1), match(2), match(3)]))
        let s = try bed.subscription("s", feed: "f.ics", collection: "/t/a")
        let first = await bed.pass(s)
        #expect(first.succeeded, "\(String(describing: first.error))")
        #expect(first.added.sorted() == ["match-1@club", "match-2@club", "match-3@club"])
        let tokens = try await bed.client.list(collection: "/t/a").map(\.changeToken).sorted()
        #expect(try await bed.summaries("/t/a") == ["match-1@club": "Match 1", "match-2@club": "Match 2", "match-3@club": "Match 3"])
        // The alarm was stripped by the input filter before it reached the target.
        #expect(try await bed.client.list(collection: "/t/a", allData: true).allSatisfy { $0.calendar?.components.first?.components.isEmpty ?? false })

        let second = await bed.pass(s)
        #expect(second.notModified, "nginx answers the stored ETag with 304")
        #expect(try await bed.client.list(collection: "/t/a").map(\.changeToken).sorted() == tokens, "no write reached the target")
        #expect(try bed.store.feed("s").etag != nil)
    }

    @Test func oneChangedSummaryIsExactlyOneUpdateOfOneField() async throws {
        let bed = try Bed()
        try bed.nginx.put("f.ics", feed([match(1), match(2)]))
        let s = try bed.subscription("s", feed: "f.ics", collection: "/t/b")
        _ = await bed.pass(s)
        let before = try await bed.client.list(collection: "/t/b")
        try bed.nginx.put("f.ics", feed([match(1, summary: "Match 1 (moved to Sunday)"), match(2)]))
        let r = await bed.pass(s)
        #expect(r.succeeded)
        #expect(r.updated.map(\.key) == ["match-1@club"])
        #expect(r.updated.map(\.edits) == [1])
        #expect(r.unchanged == 1 && r.added.isEmpty && r.deleted.isEmpty)
        let after = try await bed.client.list(collection: "/t/b")
        let changedTokens = zip(before.sorted { $0.href < $1.href }, after.sorted { $0.href < $1.href }).filter { $0.changeToken != $1.changeToken }
        #expect(changedTokens.count == 1, "only one entity was written")
        #expect(try await bed.summaries("/t/b")["match-1@club"] == "Match 1 (moved to Sunday)")
    }

    @Test func removedEventsAndOverridesAreDeleted() async throws {
        let bed = try Bed()
        let series = ["BEGIN:VEVENT", "UID:training@club", "DTSTART:20260302T180000Z", "DTEND:20260302T193000Z", "RRULE:FREQ=WEEKLY;COUNT=10", "SUMMARY:Training", "END:VEVENT"]
        let moved = ["BEGIN:VEVENT", "UID:training@club", "RECURRENCE-ID:20260309T180000Z", "DTSTART:20260310T180000Z", "DTEND:20260310T193000Z", "SUMMARY:Training (Tuesday)", "END:VEVENT"]
        try bed.nginx.put("f.ics", feed([match(1), match(2), match(3), series, moved]))
        let s = try bed.subscription("s", feed: "f.ics", collection: "/t/c")
        #expect(await bed.pass(s).succeeded)
        try bed.nginx.put("f.ics", feed([match(1), match(2), series]))
        let r = await bed.pass(s)
        #expect(r.succeeded)
        #expect(r.deleted == ["match-3@club"])
        #expect(r.updated.map(\.key) == ["training@club"], "the vanished override is an edit of the series")
        let entity = try #require(try await bed.client.fetch(uid: "training@club", in: "/t/c"))
        #expect(entity.calendar?.components.filter { $0.recurrenceID != nil }.isEmpty == true)
        #expect(Set(try await bed.summaries("/t/c").keys) == ["match-1@club", "match-2@club", "training@club"])
    }

    @Test func aSplitSeriesLeavesNoOrphanOverrides() async throws {
        let bed = try Bed()
        let master = ["BEGIN:VEVENT", "UID:old@club", "DTSTART:20260302T180000Z", "DTEND:20260302T193000Z", "RRULE:FREQ=WEEKLY;COUNT=10", "SUMMARY:Training", "END:VEVENT"]
        let early = ["BEGIN:VEVENT", "UID:old@club", "RECURRENCE-ID:20260309T180000Z", "DTSTART:20260309T190000Z", "SUMMARY:Training (late)", "END:VEVENT"]
        let late = ["BEGIN:VEVENT", "UID:old@club", "RECURRENCE-ID:20260420T180000Z", "DTSTART:20260420T190000Z", "SUMMARY:Training (late)", "END:VEVENT"]
        try bed.nginx.put("f.ics", feed([master, early, late]))
        let s = try bed.subscription("s", feed: "f.ics", collection: "/t/split")
        #expect(await bed.pass(s).succeeded)
        // "This and following": the old series ends at UNTIL, a new UID carries on; the override
        // after UNTIL belongs to no instance any more and the feed no longer has it.
        let ended = master.map { $0.hasPrefix("RRULE") ? "RRULE:FREQ=WEEKLY;UNTIL=20260330T000000Z" : $0 }
        let carriedOn = ["BEGIN:VEVENT", "UID:new@club", "DTSTART:20260406T170000Z", "DTEND:20260406T183000Z", "RRULE:FREQ=WEEKLY;COUNT=6", "SUMMARY:Training (new time)", "END:VEVENT"]
        try bed.nginx.put("f.ics", feed([carriedOn, ended, early]))
        let r = await bed.pass(s)
        #expect(r.succeeded)
        #expect(r.added == ["new@club"])
        let old = try #require(try await bed.client.fetch(uid: "old@club", in: "/t/split"))
        let rids = old.calendar?.components.compactMap { $0.recurrenceID?.value.map(ValueFormatter.icalString) } ?? []
        #expect(rids == ["20260309T180000Z"], "the override after UNTIL was removed")
    }

    @Test func anEmptiedFeedTripsTheGuardAndNothingIsDeleted() async throws {
        let bed = try Bed()
        try bed.nginx.put("f.ics", feed([match(1), match(2), match(3), match(4)]))
        let s = try bed.subscription("s", feed: "f.ics", collection: "/t/guard")
        #expect(await bed.pass(s).succeeded)
        let etag = try bed.store.feed("s").etag
        try bed.nginx.put("f.ics", feed([]))
        let r = await bed.pass(s)
        #expect(!r.succeeded)
        #expect(r.error?.contains("guard.allow-empty") == true)
        #expect(r.deleted.isEmpty)
        #expect(try await bed.summaries("/t/guard").count == 4)
        #expect(try bed.store.feed("s").etag == etag, "the validators were not advanced")
        #expect(try bed.store.feed("s").failures == 1)
        // Far fewer items: the fraction guard.
        try bed.nginx.put("f.ics", feed([match(1)]))
        let fewer = await bed.pass(s)
        #expect(fewer.error?.contains("guard.max-delete-fraction") == true)
        #expect(try await bed.summaries("/t/guard").count == 4)
        // Allowed explicitly, it goes through.
        let allowing = try bed.subscription("s", feed: "f.ics", collection: "/t/guard", extra: "guard:\n  max-delete-fraction: 1")
        #expect(await bed.pass(allowing).succeeded)
        #expect(try await bed.summaries("/t/guard").count == 1)
    }

    @Test func aDeadTargetFailsThePassAndTheNextPassCompletes() async throws {
        let bed = try Bed()
        try bed.nginx.put("f.ics", feed([match(1), match(2)]))
        let s = try bed.subscription("s", feed: "f.ics", collection: "/t/down")
        #expect(await bed.pass(s).succeeded)
        let etag = try bed.store.feed("s").etag
        try bed.nginx.put("f.ics", feed([match(1, summary: "changed"), match(2), match(3)]))
        bed.target.stop()
        let failed = await bed.pass(s)
        #expect(!failed.succeeded)
        #expect(try bed.store.feed("s").etag == etag, "validators unchanged after a failed pass")
        #expect(try bed.store.feed("s").lastError != nil)
        bed.target = try TargetProcess.start(dataDirectory: bed.target.dataDirectory)
        let next = await bed.pass(s)
        #expect(next.succeeded, "\(String(describing: next.error)) \(next.failed)")
        #expect(try await bed.summaries("/t/down") == ["match-1@club": "changed", "match-2@club": "Match 2", "match-3@club": "Match 3"])
        #expect(try bed.store.feed("s").failures == 0)
    }

    @Test func aMalformedFeedIsAnErrorAndTheTargetIsUntouched() async throws {
        let bed = try Bed()
        try bed.nginx.put("f.ics", feed([match(1)]))
        let s = try bed.subscription("s", feed: "f.ics", collection: "/t/bad")
        #expect(await bed.pass(s).succeeded)
        let tokens = try await bed.client.list(collection: "/t/bad").map(\.changeToken)
        try bed.nginx.put("f.ics", Array("<!DOCTYPE html><html><body>Maintenance</body></html>".utf8))
        let r = await bed.pass(s)
        #expect(r.error?.contains("cannot be read") == true)
        #expect(try bed.store.feed("s").lastError?.contains("not iCalendar") == true)
        #expect(try await bed.client.list(collection: "/t/bad").map(\.changeToken) == tokens)
        // And a feed that is not there at all: the HTTP status is named.
        let missing = try bed.subscription("m", feed: "nope.ics", collection: "/t/bad2")
        #expect(await bed.pass(missing).error?.contains("HTTP 404") == true)
    }

    @Test func aReconcileRevertsEditsMadeOnTheTargetAndRemovesStrangers() async throws {
        let bed = try Bed()
        try bed.nginx.put("f.ics", feed([match(1), match(2), match(3)]))
        let s = try bed.subscription("s", feed: "f.ics", collection: "/t/rec")
        #expect(await bed.pass(s).succeeded)
        // Someone edits an item on the target, and adds one by hand.
        let entity = try #require(try await bed.client.fetch(uid: "match-1@club", in: "/t/rec"))
        var edited = try #require(entity.calendar)
        edited.components[0].properties = edited.components[0].properties.map { $0.name == "SUMMARY" ? ICalProperty("SUMMARY", .text("Edited on the target")) : $0 }
        let update = Differ.diff(source: ItemGrouper.items(from: ICalDocument(calendars: [edited])).items[0],
                                 target: ItemGrouper.items(from: ICalDocument(calendars: [entity.calendar!])).items[0])
        _ = try await bed.client.updateItem(href: entity.href, changeToken: entity.changeToken, update: update)
        let stranger = ICalComponent(name: "VCALENDAR", components: [ICalComponent(name: "VEVENT", properties: [ICalProperty("UID", .text("hand@x")), ICalProperty("SUMMARY", .text("By hand"))])])
        _ = try await bed.client.addItem(collection: "/t/rec", calendar: stranger)

        let normal = await bed.pass(s)
        #expect(normal.notModified, "the feed did not change: a normal pass does not look at the target")
        #expect(try await bed.summaries("/t/rec")["match-1@club"] == "Edited on the target")

        let r = await bed.pass(s, reconcile: true)
        #expect(r.succeeded, "\(String(describing: r.error)) \(r.failed)")
        #expect(r.updated.map(\.key) == ["match-1@club"])
        #expect(r.deleted == ["hand@x"])
        #expect(r.unchanged == 2)
        #expect(try await bed.summaries("/t/rec") == ["match-1@club": "Match 1", "match-2@club": "Match 2", "match-3@club": "Match 3"])
    }

    /// Copies fetched in several batches at once are each planned against their own batch: every
    /// changed item goes as an updateItem in one multiOp per batch, none as an addItem.
    @Test func manyChangedItemsInSeveralBatchesAreUpdatedInPlace() async throws {
        let bed = try Bed()
        try bed.nginx.put("f.ics", feed((1...7).map { match($0) }))
        let s = try bed.subscription("s", feed: "f.ics", collection: "/t/batches")
        #expect(await bed.pass(s, batchSize: 2).succeeded)
        let addsBefore = try await bed.metrics("outboard_target_operations_total{operation=\"addItem\"")
        try bed.nginx.put("f.ics", feed((1...7).map { match($0, summary: "Moved \($0)") }))
        let r = await bed.pass(s, batchSize: 2)
        #expect(r.succeeded && r.updated.count == 7, "\(String(describing: r.error)) \(r.failed)")
        #expect(try await bed.metrics("outboard_target_operations_total{operation=\"addItem\"") == addsBefore, "no item was sent as new")
        #expect(try await bed.metrics("outboard_target_errors_total").isEmpty, "no operation was refused (a refused batch is redone one by one)")
        #expect(try await bed.metrics("outboard_target_operations_total{operation=\"updateItem\"").first?.hasSuffix(" 7") == true)
        #expect(try await bed.summaries("/t/batches") == Dictionary(uniqueKeysWithValues: (1...7).map { ("match-\($0)@club", "Moved \($0)") }))
    }

    @Test func aScheduledReconcileRunsWhenItsIntervalHasPassed() async throws {
        let bed = try Bed()
        try bed.nginx.put("f.ics", feed([match(1)]))
        let s = try bed.subscription("s", feed: "f.ics", collection: "/t/sched", extra: "reconcile: 10m")
        let t0 = Date()
        let first = await bed.pass(s, now: t0)
        #expect(first.succeeded && first.reconciled, "a subscription never reconciled reconciles on its first pass")
        let entity = try #require(try await bed.client.fetch(uid: "match-1@club", in: "/t/sched"))
        try await bed.client.deleteItem(href: entity.href) // removed on the target by hand
        let soon = await bed.pass(s, now: t0.addingTimeInterval(300))
        #expect(soon.notModified && !soon.reconciled)
        #expect(try await bed.summaries("/t/sched").isEmpty)
        let later = await bed.pass(s, now: t0.addingTimeInterval(660))
        #expect(later.reconciled && later.succeeded, "\(String(describing: later.error))")
        #expect(later.added == ["match-1@club"], "the item deleted on the target is restored")
        #expect(try await bed.summaries("/t/sched") == ["match-1@club": "Match 1"])
    }

    @Test func trustLastmodSkipsFetchingTheTargetCopyAndStillCatchesTargetEdits() async throws {
        let bed = try Bed()
        try bed.nginx.put("f.ics", feed([match(1), match(2)]))
        let s = try bed.subscription("s", feed: "f.ics", collection: "/t/trust", extra: "trust-lastmod: true")
        #expect(await bed.pass(s).succeeded)
        // The status store records the target's LAST-MODIFIED of each item it wrote.
        let recorded = try bed.store.items(s.id)
        #expect(recorded.count == 2 && recorded.values.allSatisfy { $0.lastModified?.hasSuffix("Z") == true }, "\(recorded)")
        try bed.nginx.put("f.ics", feed([match(1, summary: "Changed once"), match(2)]))
        let r = await bed.pass(s)
        #expect(r.succeeded && r.updated.map(\.key) == ["match-1@club"])
        #expect(r.copiesFetched == 0, "the target's LAST-MODIFIED was the one recorded: no copy was fetched")
        // Someone edits match-2 on the target (a second later, so its LAST-MODIFIED moves); then
        // the feed changes it too: the new LAST-MODIFIED has the copy fetched and diffed, and the
        // feed wins.
        try await Task.sleep(for: .milliseconds(1100))
        try await bed.comment("match-2@club", in: "/t/trust", "added on the target")
        try bed.nginx.put("f.ics", feed([match(1, summary: "Changed once"), match(2, summary: "Changed in the feed")]))
        let second = await bed.pass(s)
        #expect(second.succeeded, "\(String(describing: second.error)) \(second.failed)")
        #expect(second.copiesFetched == 1)
        let now = try #require(try await bed.client.fetch(uid: "match-2@club", in: "/t/trust"))
        let master = now.calendar?.components.first { $0.name == "VEVENT" }
        #expect(master?.property("SUMMARY")?.text == "Changed in the feed")
        #expect(master?.property("COMMENT") == nil, "the target's own edit was replaced by the feed")
        // An edit the LAST-MODIFIED cannot show (within the same second as the engine's write)
        // is still caught by the change token: refused, refetched, diffed again.
        let again = try await bed.comment("match-2@club", in: "/t/trust", "same second")
        var state = try #require(try bed.store.items(s.id)["match-2@club"])
        state.lastModified = try #require(try await bed.client.multiget(collection: "/t/trust", hrefs: [again.href], allData: false).first?.calendar).map(TargetClient.lastModified)
        try bed.store.commit(s.id, put: [state], remove: [])
        try bed.nginx.put("f.ics", feed([match(1, summary: "Changed once"), match(2, summary: "Changed twice in the feed")]))
        let third = await bed.pass(s)
        #expect(third.succeeded && third.copiesFetched == 0)
        let last = try #require(try await bed.client.fetch(uid: "match-2@club", in: "/t/trust")?.calendar?.components.first { $0.name == "VEVENT" })
        #expect(last.property("SUMMARY")?.text == "Changed twice in the feed" && last.property("COMMENT") == nil)
    }

    @Test func unchangedItemsAreRecognizedByTheirBytesAndOnlyTheOthersAreParsed() async throws {
        let bed = try Bed()
        let secondAlarm = ["BEGIN:VALARM", "ACTION:DISPLAY", "TRIGGER:-PT2H", "END:VALARM"]
        try bed.nginx.put("f.ics", feed([match(1), match(2), match(3)]))
        let s = try bed.subscription("s", feed: "f.ics", collection: "/t/bytes")
        let first = await bed.pass(s)
        #expect(first.succeeded && first.added.count == 3 && first.settledUnparsed == 0)
        // match-2 changes, the others move: their bytes are their own wherever they stand.
        try bed.nginx.put("f.ics", feed([match(3), match(2, summary: "Moved"), match(1)]))
        let second = await bed.pass(s)
        #expect(second.succeeded && second.updated.map(\.key) == ["match-2@club"], "\(second.updated)")
        #expect(second.settledUnparsed == 2 && second.unchanged == 2)
        // match-1's bytes change but not what is synced (its alarms are stripped by the filter):
        // it is parsed, found unchanged, and its new bytes are recorded.
        try bed.nginx.put("f.ics", feed([match(3), match(2, summary: "Moved"), match(1, extra: secondAlarm)]))
        let third = await bed.pass(s)
        #expect(third.succeeded && third.updated.isEmpty && third.unchanged == 3 && third.settledUnparsed == 2)
        try bed.nginx.put("f.ics", feed([match(3, summary: "Third"), match(2, summary: "Moved"), match(1, extra: secondAlarm)]))
        let fourth = await bed.pass(s)
        #expect(fourth.succeeded && fourth.updated.map(\.key) == ["match-3@club"] && fourth.settledUnparsed == 2)
        // Another filter text: every item is parsed again.
        try bed.nginx.put("f.ics", feed([match(3, summary: "Third"), match(2, summary: "Moved again"), match(1, extra: secondAlarm)]))
        let edited = try FilterLoader.load(name: "strip-alarms", text: "# edited\nstage: input\nrules:\n  - remove-component: VALARM\n", file: "strip-alarms.yaml").get()
        var sub = s
        sub.targetURL = bed.target.endpoint
        let fifth = await SyncPass(subscription: sub, filters: FilterPipeline(input: [edited], output: []), store: bed.store, target: bed.client).run()
        #expect(fifth.succeeded && fifth.settledUnparsed == 0 && fifth.updated.map(\.key) == ["match-2@club"])
        #expect(try await bed.summaries("/t/bytes") == ["match-1@club": "Match 1", "match-2@club": "Moved again", "match-3@club": "Third"])
    }

    @Test func fiveSubscriptionsIntoFiveCollections() async throws {
        let bed = try Bed()
        for i in 1...5 {
            try bed.nginx.put("f\(i).ics", feed((1...i).map { match($0, summary: "Feed \(i) match \($0)") }))
            let r = await bed.pass(try bed.subscription("s\(i)", feed: "f\(i).ics", collection: "/t/five/\(i)"))
            #expect(r.succeeded && r.added.count == i)
        }
        for i in 1...5 {
            let s = try await bed.summaries("/t/five/\(i)")
            #expect(s.count == i && s.values.allSatisfy { $0.hasPrefix("Feed \(i) ") })
        }
    }

    @Test func aKilledEngineMidPassConvergesWithNoDuplicateAndNoLoss() async throws {
        let bed = try Bed()
        let big = FeedGenerator(events: 1500, seed: 11).text()
        try bed.nginx.put("big.ics", Array(big.utf8))
        // The real `outboard sync` process, killed with SIGKILL while it writes.
        let dir = TargetProcess.temporaryDirectory()
        let subs = dir.appendingPathComponent("Subscriptions"), filtersDir = dir.appendingPathComponent("Filters")
        try FileManager.default.createDirectory(at: subs, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: filtersDir, withIntermediateDirectories: true)
        try "source:\n  url: \(bed.nginx.url("big.ics"))\ntarget:\n  url: \(bed.target.endpoint)\n  collection: /t/kill\n  token-env: TEST_TARGET_TOKEN\n"
            .write(to: subs.appendingPathComponent("big.yaml"), atomically: true, encoding: .utf8)
        let p = Process()
        p.executableURL = TargetProcess.executable.deletingLastPathComponent().appendingPathComponent("outboard")
        p.arguments = ["sync", "big", "--subscriptions", subs.path, "--filters", filtersDir.path, "--state", bed.state.path]
        p.environment = ProcessInfo.processInfo.environment.merging(bed.env) { $1 }
        p.standardOutput = FileHandle.nullDevice
        try p.run()
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline, p.isRunning, (try? await bed.client.list(collection: "/t/kill").count) ?? 0 < 100 {
            try await Task.sleep(nanoseconds: 20_000_000)
        }
        kill(p.processIdentifier, SIGKILL)
        p.waitUntilExit()
        let partial = try await bed.client.list(collection: "/t/kill").count
        // The next pass converges: every feed item exactly once, equal to the feed.
        let s = try SubscriptionLoader.load(id: "big", text: try String(contentsOf: subs.appendingPathComponent("big.yaml"), encoding: .utf8),
                                            file: "big.yaml", filters: [:], environment: bed.env).get()
        let r = await SyncPass(subscription: s, filters: FilterPipeline([]), store: bed.store, target: bed.client).run()
        #expect(r.succeeded && r.failed.isEmpty, "\(String(describing: r.error)) \(r.failed.prefix(3))")
        let items = ItemGrouper.items(from: try ICalParser().parse(big)).items
        #expect(partial > 0 && partial < items.count, "the engine was killed mid-pass (it had written \(partial))")
        // No loss: the target holds the feed, item by item, by canonical hash.
        let differs = try await divergence(bed.client, "/t/kill", feed: Array(big.utf8))
        #expect(differs == nil, "\(differs ?? "")")
        // No duplicate: the target refuses a second entity with one UID, so a pass that forgot
        // what the killed one wrote would show as adds refused with uidConflict (then adopted),
        // not as duplicates. None was refused, and the status store records each item once,
        // with the entity the target holds.
        #expect(try await bed.metrics("outboard_target_errors_total{error=\"uidConflict\"}").isEmpty, "the pass re-added what the killed one wrote")
        let recorded = try bed.store.items("big")
        #expect(Set(recorded.keys) == Set(items.map(\.key)))
        #expect(Set(recorded.values.map(\.href)) == Set(try await bed.client.list(collection: "/t/kill").map(\.href)))
        #expect(Set(recorded.values.map(\.href)).count == items.count, "two items recorded with one entity")
        let second = await SyncPass(subscription: s, filters: FilterPipeline([]), store: bed.store, target: bed.client).run()
        #expect(second.notModified, "a converged pass is followed by nothing to do")
    }
}

@Suite struct SubscriptionLoaderTests {
    @Test func reportsEveryProblemByFileAndLine() {
        let yaml = """
        source:
          url: gopher://example.org/feed
        refresh: 5s
        target:
          url: not a url
          collection: public
          token-env: NOT_SET_ANYWHERE
        filters:
          input: [strip-alarm]
        deletion: keep
        guard:
          max-delete-fraction: 2
        """
        guard case .failure(let p) = SubscriptionLoader.load(id: "bad", text: yaml, file: "bad.yaml", filters: ["strip-alarms": try! FilterLoader.load(name: "strip-alarms", text: "stage: input\nrules:\n  - remove-component: VALARM\n", file: "s.yaml").get()], environment: [:]) else {
            Issue.record("accepted")
            return
        }
        #expect(p.problems.map(\.description) == [
            "bad.yaml:2: source.url \"gopher://example.org/feed\" is not an http, https, webcal, webcals or file URL",
            "bad.yaml:3: refresh \"5s\" should be a duration of 30s or more, such as 15m, 1h or 1d",
            "bad.yaml:5: target.url \"not a url\" is not an http(s) URL of a CalWS endpoint, such as http://127.0.0.1:8765/calws",
            "bad.yaml:6: target.collection \"public\" should be a path such as /public/holidays",
            "bad.yaml:7: the target token cannot be read: the environment variable NOT_SET_ANYWHERE is not set",
            "bad.yaml:9: unknown filter \"strip-alarm\" in filters.input; did you mean strip-alarms?",
            "bad.yaml:12: guard.max-delete-fraction should be a number from 0 to 1, such as 0.5",
            "bad.yaml:10: unknown key \"deletion\" in the file; did you mean deletions?; expected one of: enabled, source, refresh, target, filters, trust-lastmod, deletions, guard, timeouts, max-feed-bytes, reconcile",
        ])
    }

    @Test(arguments: [("webcal://example.org/a.ics?x=1", "http://example.org/a.ics?x=1"), ("WEBCALS://example.org/a", "https://example.org/a"),
                      ("https://example.org/a", "https://example.org/a")])
    func webcalMapsToHTTP(raw: String, mapped: String) {
        #expect(SubscriptionLoader.feedURL(raw) == mapped)
    }

    @Test func theRepositorysSubscriptionsAreValid() {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let c = SubscriptionLoader.load(subscriptionsDirectory: root.appendingPathComponent("Subscriptions").path,
                                        filtersDirectory: root.appendingPathComponent("Filters").path,
                                        environment: ["OUTBOARD_TARGET_TOKEN": "x"])
        #expect(c.problems.isEmpty, "\(c.problems)")
        #expect(c.subscriptions.map(\.id) == ["city-sports", "example", "public-holidays"])
    }
}

@Suite(.serialized) struct FeedFetchTests {
    let nginx: NginxProcess
    init() throws { nginx = try NginxProcess.start() }

    func sub(_ url: String, extra: String = "") throws -> Subscription {
        try SubscriptionLoader.load(id: "f", text: "source:\n  url: \(url)\ntarget:\n  url: http://127.0.0.1:1/calws\n  collection: /x\n  token-env: T\n\(extra)",
                                    file: "f.yaml", filters: [:], environment: ["T": "t"]).get()
    }

    @Test func aCompressedRedirectedFeedArrivesWhole() async throws {
        let body = FeedGenerator(events: 50, seed: 1).text()
        try nginx.put("feed.ics", Array(body.utf8))
        // What arrives is shown as it arrives (decoded), up to the whole body.
        final class Seen: @unchecked Sendable { var calls = 0, last = 0 }
        let seen = Seen(), digest = FeedDigest(scanning: true)
        let result = try await FeedFetcher().fetch(try sub(nginx.url("moved/feed.ics")), etag: nil, lastModified: nil) {
            seen.calls += 1
            seen.last = $0.count
            digest.received($0)
        }
        guard case .body(let bytes, let etag, let lm) = result else { Issue.record("no body"); return }
        #expect(bytes == Array(body.utf8), "gzip decoded, redirect followed")
        #expect(seen.calls >= 1 && seen.last == bytes.count)
        #expect(digest.finish(bytes).scan?.items.count == 50)
        #expect(lm != nil)
        // nginx weakens the ETag of a body it sends gzipped (W/"…"); a body sent as it is keeps
        // its strong ETag. So a weak one here says the feed came over compressed.
        #expect(etag?.hasPrefix("W/\"") == true, "the feed was not sent compressed (ETag \(etag ?? "none"))")
        let again = try await FeedFetcher().fetch(try sub(nginx.url("feed.ics")), etag: etag, lastModified: lm)
        guard case .notModified = again else { Issue.record("expected a 304"); return }
    }

    @Test func aFeedOverTheSizeCapIsRefusedByName() async throws {
        try nginx.put("big.ics", Array(FeedGenerator(events: 200, seed: 2).text().utf8))
        do {
            _ = try await FeedFetcher().fetch(try sub(nginx.url("big.ics"), extra: "max-feed-bytes: 10kB"), etag: nil, lastModified: nil)
            Issue.record("a feed over max-feed-bytes was accepted")
        } catch {
            #expect("\(error)".contains("max-feed-bytes"))
        }
    }

    @Test func deadAndLoopingServersAreTypedErrors() async throws {
        let refused = await fetchError(try sub("http://127.0.0.1:1/feed.ics"))
        guard case .transport(let s, let host, _)? = refused else { Issue.record("\(String(describing: refused))"); return }
        #expect(s == "f" && host == "127.0.0.1")
        let looping = await fetchError(try sub(nginx.url("loop.ics")))
        guard case .transport? = looping else { Issue.record("redirect loop: \(String(describing: looping))"); return }
        let missing = await fetchError(try sub(nginx.url("none.ics")))
        #expect(missing == .http(subscription: "f", host: "127.0.0.1", status: 404, retryAfter: nil))
    }

    /// HTTPS: a feed whose server has a private CA is trusted through `source.ca-file` (and not
    /// without it); a redirect to HTTPS is followed; a redirect from HTTPS to plain HTTP is refused.
    @Test func httpsFeedsTrustTheirCAFileAndAreNeverRedirectedToPlainHTTP() async throws {
        let tls = try NginxProcess.start(tls: true)
        defer { tls.stop() }
        let body = FeedGenerator(events: 5, seed: 3).text()
        try tls.put("secure.ics", Array(body.utf8))
        func https(_ path: String, ca: String?) throws -> Subscription {
            let yaml = "source:\n  url: \(tls.tlsURL(path))\n" + (ca.map { "  ca-file: \($0)\n" } ?? "")
                + "target:\n  url: http://127.0.0.1:1/calws\n  collection: /x\n  token-env: T\n"
            return try SubscriptionLoader.load(id: "tls", text: yaml, file: "tls.yaml", filters: [:], environment: ["T": "t"]).get()
        }
        let cert = try #require(tls.certificate)

        guard case .transport(let id, _, _)? = await fetchError(try https("secure.ics", ca: nil)) else {
            Issue.record("a certificate the system does not trust was accepted"); return
        }
        #expect(id == "tls")
        for path in ["secure.ics", "to-https/secure.ics"] {
            let result = try await FeedFetcher().fetch(try https(path, ca: cert), etag: nil, lastModified: nil)
            guard case .body(let bytes, _, _) = result else { Issue.record("\(path): no body"); continue }
            #expect(bytes == Array(body.utf8), "\(path)")
        }
        let downgraded = await fetchError(try https("to-http/secure.ics", ca: cert))
        guard case .transport(let sub, _, let why)? = downgraded else { Issue.record("https → http was followed: \(String(describing: downgraded))"); return }
        #expect(sub == "tls")
        #expect("\(why)".lowercased().contains("protocol"), "\(why)")

        // `outboard check` sees an unreadable ca-file, with its line.
        let bad = SubscriptionLoader.load(id: "tls", text: "source:\n  url: \(tls.tlsURL("secure.ics"))\n  ca-file: /nonexistent/ca.pem\ntarget:\n  url: http://127.0.0.1:1/calws\n  collection: /x\n  token-env: T\n",
                                          file: "tls.yaml", filters: [:], environment: ["T": "t"])
        guard case .failure(let problems) = bad else { Issue.record("an unreadable ca-file was accepted"); return }
        #expect("\(problems)".contains("tls.yaml:3") && "\(problems)".contains("ca-file"), "\(problems)")
    }

    func fetchError(_ s: Subscription) async -> FetchError? {
        do {
            _ = try await FeedFetcher().fetch(s, etag: nil, lastModified: nil)
            return nil
        } catch {
            return error
        }
    }
}
