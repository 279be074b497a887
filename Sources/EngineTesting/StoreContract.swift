import Engine
import Foundation
import SyncCore

/// What every `ItemStateStore` must do: a new store (PostgreSQL, say) is admitted by running each
/// requirement against it from its own tests (as `TargetContract` for targets).
public enum StoreContract {
    /// A factory of empty stores: each call gives a new one.
    public struct Subject: ContractSubject {
        public var make: @Sendable () throws -> any ItemStateStore
        public var stop: @Sendable () -> Void

        public init(
            stop: @escaping @Sendable () -> Void = {}, make: @escaping @Sendable () throws -> any ItemStateStore
        ) {
            self.make = make
            self.stop = stop
        }
    }

    public typealias Requirement = ContractRequirement<Subject>

    public static let requirements: [Requirement] = [
        Requirement("a store names its passes with a writer of its own", writers),
        Requirement("feed states round-trip, the source's position and open pass included", feeds),
        Requirement("the schedule owns the next due time", schedule),
        Requirement("a batch is committed whole and forgets its intents", batches),
        Requirement("doubts keep their latest time, outlive commits, are forgotten by key", doubts),
        Requirement("the pass trace comes with the batches and is replaced by the next pass", traces),
        Requirement("one pass of a subscription at a time", locks),
    ]

    static let t0 = Date(timeIntervalSince1970: 1_800_000_000)

    static func writers(_ subject: Subject) async throws {
        let make = subject.make
        let one = try make()
        let other = try make()
        try expect(one.writer.count >= 16 && one.writer != other.writer, "writers \(one.writer), \(other.writer)")
        var state = FeedState()
        state.passNumber = 41
        try one.save("a", state)
        try expect(try one.feed("a").passNumber == 41, "the pass number is kept")
    }

    static func feeds(_ subject: Subject) async throws {
        let make = subject.make
        let store = try make()
        try expect(try store.feed("a") == FeedState(), "a subscription without a state has an empty one")
        let state = FeedState(
            etag: "\"e\"", lastModified: "Tue, 01 Dec 2026 00:00:00 GMT", bodyHash: "h", lastAttempt: t0,
            lastSuccess: t0, lastError: "boom", failures: 2, lastReconcile: t0, passOpen: t0)
        try store.save("a", state)
        try expect(try store.feed("a") == state, "a feed state round-trips")
        try expect(try store.feeds() == ["a": state], "feeds lists it")
        var token = state
        token.position = .token("sync-7")
        try store.save("a", token)
        try expect(try store.feed("a").position == .token("sync-7"), "a token position round-trips")
        try expect(try store.feed("a").etag == nil, "a token replaces the validators")
    }

    static func schedule(_ subject: Subject) async throws {
        let make = subject.make
        let store = try make()
        let due = t0.addingTimeInterval(3600)
        try store.schedule("a", nextDue: due)
        try expect(try store.feed("a").nextDue == due, "the next due time is recorded")
        try store.save("a", FeedState(lastError: "boom", failures: 1, nextDue: Date(timeIntervalSince1970: 0)))
        try store.begin("a", FeedState(failures: 2), intents: [])
        try expect(try store.feed("a").nextDue == due, "a pass does not overwrite the schedule's time")
        try expect(try store.feed("a").failures == 2, "a pass's state is saved")
    }

    static func batches(_ subject: Subject) async throws {
        let make = subject.make
        let store = try make()
        let one = ItemState(
            key: "one", hash: "h1", href: "/c/one.ics", changeToken: "r1", lastModified: "x", content: "c", source: "s",
            origin: "/src/one.ics")
        try store.commit("a", put: [one, ItemState(key: "two", hash: "h2", href: "/c/two.ics", changeToken: "r1")])
        try expect(try store.items("a")["one"] == one, "an item state round-trips, its origin included")
        try expect(try store.itemCounts() == ["a": 2], "items are counted per subscription")
        try store.begin(
            "a", FeedState(passOpen: t0),
            intents: [
                WriteIntent(key: "one", operation: .update, href: "/c/one.ics"),
                WriteIntent(key: "two", operation: .delete, href: "/c/two.ics"),
                WriteIntent(key: "three", operation: .add, href: nil),
            ])
        try expect(try store.feed("a").passOpen == t0, "begin marks the pass open")
        try expect(try store.intents("a").map(\.key) == ["one", "three", "two"], "begin records the intents")
        try expect(try store.intents("b").isEmpty, "intents belong to their subscription")
        var updated = one
        updated.hash = "h1b"
        try store.commit("a", put: [updated], remove: ["two"])
        try expect(
            try store.intents("a") == [WriteIntent(key: "three", operation: .add, href: nil)],
            "a commit forgets the intents of the keys it touches")
        try expect(try store.items("a").keys.sorted() == ["one"], "a commit removes")
        try expect(try store.items("a")["one"]?.hash == "h1b", "a commit replaces")
    }

    static func doubts(_ subject: Subject) async throws {
        let make = subject.make
        let store = try make()
        try expect(try store.doubts("a").isEmpty, "no doubts at first")
        try store.recordDoubts("a", keys: ["one", "two"], until: t0.addingTimeInterval(600))
        try store.recordDoubts("a", keys: ["two"], until: t0)  // an earlier time does not shorten it
        try store.recordDoubts("b", keys: ["one"], until: t0)
        try expect(
            try store.doubts("a") == ["one": t0.addingTimeInterval(600), "two": t0.addingTimeInterval(600)],
            "a doubt keeps its latest time")
        // A batch's outcome forgets intents, not doubts: a write may land after it.
        try store.commit("a", put: [ItemState(key: "one", hash: "h", href: "/c/one.ics", changeToken: "r")])
        try expect(try store.doubts("a").keys.sorted() == ["one", "two"], "doubts outlive commits")
        try store.forgetDoubts("a", keys: ["one"])
        try expect(try store.doubts("a") == ["two": t0.addingTimeInterval(600)], "doubts are forgotten by key")
        try expect(try store.doubts("b") == ["one": t0], "doubts belong to their subscription")
    }

    static func traces(_ subject: Subject) async throws {
        let make = subject.make
        let store = try make()
        try expect(try store.trace("a", key: "x") == nil, "no trace before a pass")
        let dropped = ItemTrace(key: "x", outcome: .dropped, rules: ["filter f rule 1 (line 3): dropped"])
        try store.startTrace("a", pass: t0, items: [dropped])
        let updated = ItemTrace(
            key: "y", outcome: .updated,
            rules: ["filter g rule 1 (set CLASS): 1 change", "filter g rule 2 (add X): 2 changes"],
            edits: [#"~ VEVENT uid=y SUMMARY "A\nB" -> "C""#, #"+ VEVENT uid=y CATEGORIES "D""#], answer: "ok")
        try store.commit(
            "a", put: [ItemState(key: "y", hash: "h", href: "/c/y.ics", changeToken: "r1")], remove: [],
            trace: [updated])
        try expect(try store.trace("a", key: "x") == PassTrace(pass: t0, item: dropped), "a started trace is kept")
        try expect(try store.trace("a", key: "y") == PassTrace(pass: t0, item: updated), "a batch's trace is kept")
        try expect(try store.trace("a", key: "z") == PassTrace(pass: t0, item: nil), "an untraced key has the pass")
        try expect(try store.trace("b", key: "x") == nil, "a trace belongs to its subscription")
        try expect(try store.items("a")["y"]?.changeToken == "r1", "the batch's states came with its trace")
        let second = t0.addingTimeInterval(3600)
        try store.startTrace("a", pass: second, items: [])
        try expect(try store.trace("a", key: "x") == PassTrace(pass: second, item: nil), "the next pass replaces it")
        try expect(try store.trace("a", key: "y") == PassTrace(pass: second, item: nil), "every row of it")
    }

    static func locks(_ subject: Subject) async throws {
        let make = subject.make
        let store = try make()
        let lease = try await store.lockPass("a", wait: 0)
        let other = try await store.lockPass("b", wait: 0)
        do {
            _ = try await store.lockPass("a", wait: 0.1)
            throw ContractViolation("a second lock of the same subscription was granted")
        } catch let error as StateStoreError {
            guard case .passRunning(let id, let holder) = error else { throw ContractViolation("\(error)") }
            try expect(id == "a" && holder?.pid == getpid(), "the refusal names the subscription and the holder")
            try expect("\(error)".contains("a pass of a is already running"), "the refusal says so: \(error)")
        }
        lease.release()
        lease.release()  // twice is harmless
        try await store.lockPass("a", wait: 0).release()
        other.release()
    }

}
