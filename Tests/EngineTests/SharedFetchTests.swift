import Engine
import EngineAdapters
import EngineDaemon
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
        let shared = SharedFeedSource(window: 15, subscriptions: subs, clock: { clock.now })
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
        let shared = SharedFeedSource(subscriptions: subs)
        let reports = await Scheduler(subscriptions: subs, states: [:], now: t0, random: { 0.5 }) { s in
            await bed.pass(s, source: shared)
        }.runDue(now: t0, clock: { t0 })
        #expect(reports.count == 3 && reports.allSatisfy(\.succeeded))
        #expect(bed.nginx.requests("/private.ics").count == 2, "one request per password")
        let sharing = reports.filter(\.fetchShared).map(\.subscription)
        #expect(sharing == ["a"] || sharing == ["c"], "only the two of one password share: \(sharing)")
    }
}

/// The shared source's rules on an in-memory feed that counts its requests.
@Suite struct SharedFeedSourceTests {
    /// A feed that counts the requests it answers.
    final class CountingFeed: FeedSource, @unchecked Sendable {
        // Unchecked: `count` is read and written under `lock`.
        let inner: NamedFeeds
        private let lock = NSLock()
        private var count = 0

        init(_ inner: NamedFeeds) { self.inner = inner }

        var requests: Int { lock.withLock { count } }

        func fetch(
            _ s: Subscription, from position: FeedPosition?,
            onBody: (@Sendable (UnsafeBufferPointer<UInt8>) -> Void)?
        ) async throws(FetchError) -> FeedResult {
            lock.withLock { count += 1 }
            return try await inner.fetch(s, from: position, onBody: onBody)
        }
    }

    /// A feed with no ETag whose Last-Modified stays the same second while its bytes change
    /// (a file edited right after it was read; found by the demo).
    struct SameSecondFeed: FeedSource {
        let bytes: [UInt8]
        func fetch(
            _ s: Subscription, from position: FeedPosition?,
            onBody: (@Sendable (UnsafeBufferPointer<UInt8>) -> Void)?
        ) async throws(FetchError) -> FeedResult {
            .body(bytes, etag: nil, lastModified: "Mon, 30 Nov 2026 12:35:45 GMT")
        }
    }

    @Test func aChangedBodyWithTheSameLastModifiedIsNeverA304() async throws {
        let bed = try MemoryBed()
        let a = try bed.subscription("a", feed: "f.ics", collection: "/t/a")
        let b = try bed.subscription("b", feed: "f.ics", collection: "/t/b")
        let changed = feed([match(1, summary: "changed")])
        let shared = SharedFeedSource(SameSecondFeed(bytes: changed), subscriptions: [a, b])
        let stored = "Mon, 30 Nov 2026 12:35:45 GMT"
        // The subscription that fetched gets the server's 200; the other the body, not a 304.
        for s in [a, b] {
            guard
                case .body(let body, _, _) = try await shared.fetch(
                    s, from: .validators(etag: nil, lastModified: stored))
            else {
                Issue.record("\(s.id) was told the feed had not changed")
                continue
            }
            #expect(body == changed)
        }
    }

    @Test func eachSubscriptionIsAnsweredOnceAndAFailureIsToldByItsOwnName() async throws {
        let bed = try MemoryBed()
        bed.put("f.ics", feed([match(1)]))
        let a = try bed.subscription("a", feed: "f.ics", collection: "/t/a")
        let b = try bed.subscription("b", feed: "f.ics", collection: "/t/b")
        let counting = CountingFeed(bed.feeds)
        let shared = SharedFeedSource(counting, subscriptions: [a, b])
        let first = try await shared.answer(a, from: nil, onBody: nil)
        guard case .body(let body, let etag, _) = first.result else {
            Issue.record("a body")
            return
        }
        #expect(!first.shared && counting.requests == 1)
        // b, with the same validators: a 304 from a's answer; with none: a's body.
        #expect(try await shared.answer(b, from: .validators(etag: etag, lastModified: nil), onBody: nil).shared)
        #expect(counting.requests == 1)
        // a again (a trigger right after its pass): a refresh of its own, so a request.
        guard case .notModified = try await shared.fetch(a, from: .validators(etag: etag, lastModified: nil)) else {
            Issue.record("a 304 for a's own validators")
            return
        }
        #expect(counting.requests == 2)
        let third = try await shared.answer(b, from: nil, onBody: nil)
        guard case .body(let again, _, _) = third.result else {
            Issue.record("the body kept from a's first answer, confirmed by its 304")
            return
        }
        #expect(third.shared && again == body && counting.requests == 2)

        // A feed that is not there: each subscription is told the failure by its own name.
        let c = try bed.subscription("c", feed: "gone.ics", collection: "/t/c")
        let d = try bed.subscription("d", feed: "gone.ics", collection: "/t/d")
        let missing = SharedFeedSource(CountingFeed(bed.feeds), subscriptions: [c, d])
        func failure(_ s: Subscription) async -> FetchError? {
            do {
                _ = try await missing.fetch(s)
                return nil
            } catch { return error }
        }
        async let failedC = failure(c)
        async let failedD = failure(d)
        for (id, e) in [("c", await failedC), ("d", await failedD)] {
            #expect(e.map { "\($0)" }?.hasPrefix("\(id): the feed at feeds.test answered HTTP 404") == true)
        }
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
