import CalendarModel
import CalWS
import Engine
import EngineAdapters
import EngineDaemon
import EngineTesting
import Filters
import Foundation
import Testing
import TestSupport

/// The mirror's anti-entropy: a subscription is reconciled in full once a day by default (every
/// target item compared with the feed), which repairs what changed on the target behind the
/// engine's back, however it got there, and says what it repaired.
@Suite struct ReconcileTests {
    @Test func aPlantedDivergenceIsRepairedByTheDailyReconcileAndCounted() async throws {
        let bed = try Bed()
        let bytes = feed((1...4).map { match($0) })
        try bed.nginx.put("r.ics", bytes)
        let s = try bed.subscription("r", feed: "r.ics", collection: "/t/repair")
        #expect(s.reconcileEvery == 86_400, "a day by default")
        let pipeline = FilterPipeline(input: [bed.filters["strip-alarms"]!], output: [])
        let start = Date()
        let first = await bed.pass(s, now: start)
        #expect(first.succeeded && !first.reconciled, "\(first.error ?? "")")

        // Behind the engine's back: match 1 edited, match 2 deleted, an entity the feed never had.
        try await bed.comment("match-1@club", in: "/t/repair", "edited on the target")
        let gone = try #require(try await bed.client.fetch(uid: "match-2@club", in: "/t/repair"))
        try await bed.client.deleteItem(href: gone.href)
        _ = try await bed.client.addItem(
            collection: "/t/repair", calendar: try TargetContract.event("stray@elsewhere", "Stray"))
        #expect(try await divergence(bed.client, "/t/repair", feed: bytes, pipeline: pipeline) != nil)

        // An hour later the feed has not changed: a 304, and the divergence stays.
        #expect(await bed.pass(s, now: start.addingTimeInterval(3600)).notModified)
        #expect(try await divergence(bed.client, "/t/repair", feed: bytes, pipeline: pipeline) != nil)

        // A day after the first pass (which started the clock) the reconcile is due: it repairs all
        // three and says so.
        let daily = await bed.pass(s, now: start.addingTimeInterval(86_400 + 1))
        #expect(daily.succeeded && daily.reconciled, "\(daily.error ?? "")")
        #expect(daily.repaired == ["match-1@club", "match-2@club", "stray@elsewhere"], "\(daily)")
        let diverged = try await divergence(bed.client, "/t/repair", feed: bytes, pipeline: pipeline)
        #expect(diverged == nil, "\(diverged ?? "")")
        let metrics = EngineMetrics()
        metrics.started(lag: 0)
        metrics.finished(daily, seconds: 0.1)
        let text = String(decoding: metrics.exposition(), as: UTF8.self)
        #expect(text.contains(#"outboard_reconcile_repairs_total{subscription="r"} 3"#), "\(text)")
        #expect(text.contains(#"outboard_reconciles_total{subscription="r"} 1"#), "\(text)")

        // The next reconcile is a day after this one; a feed change meanwhile is no repair.
        try bed.nginx.put("r.ics", feed([match(1, summary: "Renamed")] + (2...4).map { match($0) }))
        let changed = await bed.pass(s, now: start.addingTimeInterval(86_400 + 7200))
        #expect(changed.succeeded && !changed.reconciled && changed.repaired.isEmpty, "\(changed)")
        let again = await bed.pass(s, now: start.addingTimeInterval(2 * 86_400 + 2))
        #expect(again.reconciled && again.repaired.isEmpty, "\(again)")
    }

    @Test func reconcileNeverTurnsTheDailyReconcileOff() throws {
        let bed = try Bed()
        let s = try bed.subscription("n", feed: "n.ics", collection: "/t/never", extra: "reconcile: never")
        #expect(s.reconcileEvery == nil)
    }
}
