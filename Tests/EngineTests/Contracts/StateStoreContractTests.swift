import Engine
import EngineAdapters
import EngineTesting
import Foundation
import GRDB
import SyncCore
import Testing
import TestSupport

/// What every `ItemStateStore` must do, run against each implementation: the SQLite store on a
/// real file and the in-memory one. A new store (PostgreSQL, say) is admitted by passing it.
@Suite struct StateStoreContractTests {
    enum Kind: String, CaseIterable, CustomTestStringConvertible {
        /// The in-memory store; the SQLite store on a file in a state directory; the SQLite store
        /// on a GRDB queue in memory (the writer injected).
        case memory, sqlite, sqliteQueue
        var testDescription: String { rawValue }
    }

    static func make(_ kind: Kind) throws -> any ItemStateStore {
        switch kind {
        case .memory: InMemoryStateStore()
        case .sqlite: try StatusStore(directory: TargetProcess.temporaryDirectory().path)
        case .sqliteQueue: try StatusStore(DatabaseQueue(), lockDirectory: TargetProcess.temporaryDirectory().path)
        }
    }

    @Test(arguments: Kind.allCases)
    func aStoreNamesItsPassesWithAWriterOfItsOwn(kind: Kind) throws {
        let one = try Self.make(kind)
        let other = try Self.make(kind)
        #expect(one.writer.count >= 16 && one.writer != other.writer, "\(one.writer) \(other.writer)")
        var state = FeedState()
        state.passNumber = 41
        try one.save("a", state)
        #expect(try one.feed("a").passNumber == 41)
    }

    @Test func aStatusStoreKeepsItsWriterWhenOpenedAgain() throws {
        let directory = TargetProcess.temporaryDirectory().path
        let writer = try StatusStore(directory: directory).writer
        #expect(try StatusStore(directory: directory).writer == writer)
    }

    @Test(arguments: Kind.allCases)
    func feedStatesRoundTripWithTheOpenPassMark(kind: Kind) throws {
        let store = try Self.make(kind)
        #expect(try store.feed("a") == FeedState())
        let at = Date(timeIntervalSince1970: 1_800_000_000)
        let state = FeedState(
            etag: "\"e\"", lastModified: "Tue, 01 Dec 2026 00:00:00 GMT", bodyHash: "h", lastAttempt: at,
            lastSuccess: at,
            lastError: "boom", failures: 2, lastReconcile: at, passOpen: at)
        try store.save("a", state)
        #expect(try store.feed("a") == state)
        #expect(try store.feeds() == ["a": state])
    }

    @Test(arguments: Kind.allCases)
    func theScheduleOwnsTheNextDueTimeAndAPassDoesNotOverwriteIt(kind: Kind) throws {
        let store = try Self.make(kind)
        let due = Date(timeIntervalSince1970: 1_800_003_600)
        try store.schedule("a", nextDue: due)
        #expect(try store.feed("a").nextDue == due)
        try store.save("a", FeedState(lastError: "boom", failures: 1, nextDue: Date(timeIntervalSince1970: 0)))
        try store.begin("a", FeedState(failures: 2), intents: [])
        #expect(try store.feed("a").nextDue == due)
        #expect(try store.feed("a").failures == 2)
    }

    @Test(arguments: Kind.allCases)
    func aBatchIsCommittedWholeAndForgetsItsIntents(kind: Kind) throws {
        let store = try Self.make(kind)
        let one = ItemState(
            key: "one", hash: "h1", href: "/c/one.ics", changeToken: "r1", lastModified: "x", content: "c", source: "s")
        try store.commit("a", put: [one, ItemState(key: "two", hash: "h2", href: "/c/two.ics", changeToken: "r1")])
        #expect(try store.items("a")["one"] == one)
        #expect(try store.itemCounts() == ["a": 2])
        let open = Date(timeIntervalSince1970: 1_800_000_000)
        try store.begin(
            "a", FeedState(passOpen: open),
            intents: [
                WriteIntent(key: "one", operation: .update, href: "/c/one.ics"),
                WriteIntent(key: "two", operation: .delete, href: "/c/two.ics"),
                WriteIntent(key: "three", operation: .add, href: nil),
            ])
        #expect(try store.feed("a").passOpen == open)
        #expect(try store.intents("a").map(\.key) == ["one", "three", "two"])
        #expect(try store.intents("b").isEmpty, "intents belong to their subscription")
        var updated = one
        updated.hash = "h1b"
        try store.commit("a", put: [updated], remove: ["two"])
        #expect(try store.intents("a") == [WriteIntent(key: "three", operation: .add, href: nil)])
        #expect(try store.items("a").keys.sorted() == ["one"])
        #expect(try store.items("a")["one"]?.hash == "h1b")
    }

    @Test(arguments: Kind.allCases)
    func doubtsKeepTheirLatestTimeOutliveCommitsAndAreForgottenByKey(kind: Kind) throws {
        let store = try Self.make(kind)
        let t0 = Date(timeIntervalSince1970: 1_800_000_000)
        #expect(try store.doubts("a").isEmpty)
        try store.recordDoubts("a", keys: ["one", "two"], until: t0.addingTimeInterval(600))
        try store.recordDoubts("a", keys: ["two"], until: t0)  // an earlier time does not shorten it
        try store.recordDoubts("b", keys: ["one"], until: t0)
        #expect(try store.doubts("a") == ["one": t0.addingTimeInterval(600), "two": t0.addingTimeInterval(600)])
        // A batch's outcome forgets intents, not doubts: a write may land after it.
        try store.commit("a", put: [ItemState(key: "one", hash: "h", href: "/c/one.ics", changeToken: "r")])
        #expect(try store.doubts("a").keys.sorted() == ["one", "two"])
        try store.forgetDoubts("a", keys: ["one"])
        #expect(try store.doubts("a") == ["two": t0.addingTimeInterval(600)])
        #expect(try store.doubts("b") == ["one": t0])
    }

    @Test(arguments: Kind.allCases)
    func thePassTraceIsWrittenWithTheBatchesAndReplacedByTheNextPass(kind: Kind) throws {
        let store = try Self.make(kind)
        #expect(try store.trace("a", key: "x") == nil)
        let first = Date(timeIntervalSince1970: 1_800_000_000)
        let dropped = ItemTrace(key: "x", outcome: .dropped, rules: ["filter f rule 1 (line 3): dropped"])
        try store.startTrace("a", pass: first, items: [dropped])
        let updated = ItemTrace(
            key: "y", outcome: .updated,
            rules: ["filter g rule 1 (set CLASS): 1 change", "filter g rule 2 (add X): 2 changes"],
            edits: [#"~ VEVENT uid=y SUMMARY "A\nB" -> "C""#, #"+ VEVENT uid=y CATEGORIES "D""#], answer: "ok")
        try store.commit(
            "a", put: [ItemState(key: "y", hash: "h", href: "/c/y.ics", changeToken: "r1")], remove: [],
            trace: [updated])
        #expect(try store.trace("a", key: "x") == PassTrace(pass: first, item: dropped))
        #expect(try store.trace("a", key: "y") == PassTrace(pass: first, item: updated))
        #expect(try store.trace("a", key: "z") == PassTrace(pass: first, item: nil))
        #expect(try store.trace("b", key: "x") == nil, "a trace belongs to its subscription")
        #expect(try store.items("a")["y"]?.changeToken == "r1", "the batch's states came with its trace")

        let second = Date(timeIntervalSince1970: 1_800_003_600)
        try store.startTrace("a", pass: second, items: [])
        #expect(try store.trace("a", key: "x") == PassTrace(pass: second, item: nil))
        #expect(try store.trace("a", key: "y") == PassTrace(pass: second, item: nil))
    }

    @Test(arguments: Kind.allCases)
    func onePassOfASubscriptionAtATime(kind: Kind) async throws {
        let store = try Self.make(kind)
        let lease = try await store.lockPass("a", wait: 0)
        let other = try await store.lockPass("b", wait: 0)
        do {
            _ = try await store.lockPass("a", wait: 0.1)
            Issue.record("a second lock of the same subscription was granted")
        } catch {
            guard case .passRunning(let id, let holder) = error else {
                Issue.record("\(error)")
                return
            }
            #expect(id == "a")
            #expect(holder?.pid == getpid())
            #expect("\(error)".contains("a pass of a is already running"))
        }
        lease.release()
        lease.release()  // twice is harmless
        try await store.lockPass("a", wait: 0).release()
        other.release()
    }
}
