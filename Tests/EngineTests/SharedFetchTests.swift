import Engine
import Foundation
import Testing
import TestSupport

/// One feed, many subscribers: passes of subscriptions with the same feed URL and credentials
/// share one conditional fetch per refresh. nginx's access log counts what the feed's host saw;
/// the scheduler runs the passes as the daemon does, against the real target.
@Suite(.serialized) struct SharedFetchTests {
    @Test func tenSubscriptionsOfOneFeedMakeOneRequestPerRefresh() async throws {
        let bed = try Bed()
        try bed.nginx.put("holidays.ics", feed([match(1), match(2)]))
        let subs = try (0..<10).map {
            try bed.subscription("h\($0)", feed: "holidays.ics", collection: "/t/holidays/\($0)")
        }
        let clock = ManualClock(t0)
        let shared = SharedFeedSource(window: 15, clock: { clock.now })
        let scheduler = Scheduler(subscriptions: subs, states: [:], now: clock.now, random: { 0.5 }) { s in
            await bed.pass(s, source: shared)
        }
        func refresh() async -> [SyncReport] {
            await scheduler.runDue(now: clock.now, clock: { clock.now })
        }
        // The initial load: one request, answered 200; every subscriber mirrors the feed.
        let first = await refresh()
        #expect(first.count == 10 && first.allSatisfy { $0.succeeded && $0.added.count == 2 })
        #expect(bed.nginx.requests("/holidays.ics") == [200])
        #expect(first.count { !$0.fetchShared } == 1, "one pass fetched; the nine others were answered from it")

        // An hour later, unchanged: one conditional request, a 304 for everyone.
        clock.advance(3600)
        let second = await refresh()
        #expect(second.count == 10 && second.allSatisfy(\.notModified))
        #expect(bed.nginx.requests("/holidays.ics") == [200, 304])

        // Changed: one request brings the new body to all ten.
        try bed.nginx.put("holidays.ics", feed([match(1, summary: "Cup final"), match(2)]))
        clock.advance(3600)
        let third = await refresh()
        #expect(third.count == 10 && third.allSatisfy { $0.succeeded && $0.updated.map(\.key) == ["match-1@club"] })
        #expect(bed.nginx.requests("/holidays.ics") == [200, 304, 200])
        for i in 0..<10 {
            #expect(try await bed.summaries("/t/holidays/\(i)")["match-1@club"] == "Cup final")
        }
    }

    @Test func subscriptionsWithOtherCredentialsFetchOnTheirOwn() async throws {
        let bed = try Bed()
        try bed.nginx.put("private.ics", feed([match(1)]))
        let secrets = TargetProcess.temporaryDirectory()
        try FileManager.default.createDirectory(at: secrets, withIntermediateDirectories: true)
        func sub(_ id: String, password: String) throws -> Subscription {
            let file = secrets.appendingPathComponent(id)
            try password.write(to: file, atomically: true, encoding: .utf8)
            return try bed.subscription(
                id, feed: "private.ics", collection: "/t/private/\(id)",
                source: "  auth:\n    type: basic\n    username: ann\n    password-file: \(file.path)")
        }
        let subs = [try sub("a", password: "one"), try sub("b", password: "two"), try sub("c", password: "one")]
        let shared = SharedFeedSource()
        let reports = await Scheduler(subscriptions: subs, states: [:], now: t0, random: { 0.5 }) { s in
            await bed.pass(s, source: shared)
        }.runDue(now: t0, clock: { t0 })
        #expect(reports.count == 3 && reports.allSatisfy(\.succeeded))
        #expect(bed.nginx.requests("/private.ics").count == 2, "one request per password")
        let sharing = reports.filter(\.fetchShared).map(\.subscription)
        #expect(sharing == ["a"] || sharing == ["c"], "only the two of one password share: \(sharing)")
    }
}

/// A clock the test moves by hand.
final class ManualClock: @unchecked Sendable {
    // Unchecked: `current` is read and written under `lock`.
    private let lock = NSLock()
    private var current: Date

    init(_ start: Date) { current = start }

    var now: Date { lock.withLock { current } }

    func advance(_ seconds: TimeInterval) {
        lock.withLock { current = current.addingTimeInterval(seconds) }
    }
}
