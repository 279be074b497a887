import Engine
import Foundation
import SyncCore
import Testing
import TestSupport

@testable import EngineAdapters

/// The cluster's part of the PostgreSQL store, on a real server, with two or three engines in one
/// process (each `PostgresStore` is an engine of its own): claims, leases and fencing, triggers,
/// configuration digests, retirement, and the schedule kept across engines. A lease's expiry is
/// made by moving it into the past, as a paused engine's would pass.
@Suite(.serialized) struct PostgresClusterStoreTests {
    final class Server: @unchecked Sendable {
        let process: PostgresProcess
        let url: PostgresStoreURL

        init() throws {
            process = try PostgresProcess.start()
            url = try PostgresStoreURL.parse(try process.newDatabase() + "?lease=30").get()
        }

        deinit { process.remove() }

        func engine() throws -> PostgresStore { try PostgresStore(url) }

        /// The lease of `id` expires now, as if its engine had stopped renewing it.
        func expire(_ id: String) throws {
            try process.psql(
                "UPDATE feed SET lease_expiry = now() - interval '1 second' WHERE subscription = '\(id)'",
                database: url.database)
        }
    }

    final class Events: @unchecked Sendable {
        let lock = NSLock()
        var seen: [ClusterEvent] = []
        func take(_ e: ClusterEvent) { lock.withLock { seen.append(e) } }
        var all: [ClusterEvent] { lock.withLock { seen } }
    }

    static let item = ItemState(key: "k", hash: "h", href: "/c/k.ics", changeToken: "r1")

    @Test func twoEnginesNeverHoldOneSubscriptionAndATakenOverLeaseRefusesTheOldHoldersWrites() async throws {
        let server = try Server()
        let a = try server.engine()
        let b = try server.engine()
        let aEvents = Events()
        let bEvents = Events()
        a.observe(aEvents.take)
        b.observe(bEvents.take)
        #expect(a.engine != b.engine && a.writer == b.writer, "one writer (the store's), two engines")
        let digests = ["s1": "d", "s2": "d", "s3": "d"]
        _ = try a.join(digests, now: Date())
        _ = try b.join(digests, now: Date())

        let first = try a.claim(limit: 2, now: Date())
        let second = try b.claim(limit: 10, now: Date())
        #expect(first.map(\.id) == ["s1", "s2"] && second.map(\.id) == ["s3"], "\(first) \(second)")
        #expect(try b.claim(limit: 10, now: Date()).isEmpty, "what is leased is not claimed again")

        // A's pass of s1: its lease is the pass's lock; another engine's pass cannot take it.
        let lease = try await a.lockPass("s1", wait: 0)
        try a.begin("s1", FeedState(passNumber: 1), intents: [WriteIntent(key: "k", operation: .add, href: nil)])
        await #expect(throws: StateStoreError.self) { _ = try await b.lockPass("s1", wait: 0.2) }

        // A stops renewing (paused); once its lease expires, B takes s1 over.
        try server.expire("s1")
        let taken = try b.claim(limit: 10, now: Date())
        #expect(taken.map(\.id) == ["s1"] && taken[0].takenFrom == a.engine && taken[0].fence > first[0].fence)
        #expect(bEvents.all == [.tookOver(subscription: "s1", from: a.engine)])

        // A wakes: whatever its pass records now is refused, and it is told so.
        #expect(throws: StateStoreError.self) { try a.commit("s1", put: [Self.item]) }
        #expect(throws: StateStoreError.self) { try a.save("s1", FeedState(lastError: "late")) }
        #expect(
            aEvents.all.first == .fenced(subscription: "s1", fence: first[0].fence, holder: b.engine),
            "\(aEvents.all)")
        #expect(try a.items("s1").isEmpty && a.feed("s1").lastError == nil, "nothing of A's was recorded")
        lease.release()
        #expect(try !a.release("s1", nextDue: Date()), "A's release after the takeover changes nothing")

        // B's pass records, and its release sets the next due time for every engine.
        let bLease = try await b.lockPass("s1", wait: 0)
        try b.commit("s1", put: [Self.item])
        bLease.release()
        let due = Date(timeIntervalSince1970: 1_900_000_000)
        #expect(try b.release("s1", nextDue: due))
        #expect(try a.feed("s1").nextDue == due && a.items("s1")["k"] == Self.item)
        #expect(try a.cluster().leases["s1"] == nil && a.cluster().leases["s2"]?.engine == a.engine)
    }

    @Test func aTriggerReachesTheSubscriptionWhereverItIsLeased() async throws {
        let server = try Server()
        let a = try server.engine()
        let b = try server.engine()
        let later = Date().addingTimeInterval(3600)
        _ = try a.join(["s1": "d", "s2": "d"], now: Date())
        _ = try b.join(["s1": "d", "s2": "d"], now: Date())
        let claimed = try a.claim(limit: 2, now: Date())
        #expect(claimed.count == 2)
        try a.release("s2", nextDue: later)

        #expect(try b.trigger("s1", now: Date()) == .afterRunningPass, "s1 runs on A: it runs again after")
        #expect(try b.trigger("s2", now: Date()) == .queued)
        #expect(try b.trigger("nope", now: Date()) == nil, "no engine defines it")
        try a.release("s1", nextDue: later)
        #expect(try a.feed("s1").nextDue! <= Date(), "the pass that was running is due again at once")
        #expect(try b.claim(limit: 10, now: Date()).map(\.id).sorted() == ["s1", "s2"])
    }

    @Test func filesThatDisagreeStopTheSubscriptionUntilTheyAgreeAndOnesNoEngineDefinesAreRetired() async throws {
        let server = try Server()
        let a = try server.engine()
        let b = try server.engine()
        _ = try a.join(["s1": "old", "s2": "old"], now: Date())
        // B has a newer s1 (a change rolled out to it only) and no s2.
        #expect(try b.join(["s1": "new"], now: Date()) == ["s1": a.engine])
        #expect(try a.conflicts() == ["s1": b.engine])
        #expect(try a.cluster().disagreeing == ["s1"])
        #expect(try a.claim(limit: 10, now: Date()).map(\.id) == ["s2"], "s1 runs nowhere, s2 (only A's) runs")
        #expect(try b.claim(limit: 10, now: Date()).isEmpty)
        try a.release("s2", nextDue: Date())

        // A's files catch up: s1 runs again, and s2, which no engine defines now, is retired.
        #expect(try a.join(["s1": "new"], now: Date()).isEmpty)
        #expect(try a.cluster().retired.keys.sorted() == ["s2"] && a.cluster().disagreeing.isEmpty)
        #expect(try b.claim(limit: 10, now: Date()).map(\.id) == ["s1"])
        #expect(try a.trigger("s2", now: Date()) == nil, "a retired subscription is not run")
        _ = try a.join(["s1": "new", "s2": "old"], now: Date())
        #expect(try a.cluster().retired.isEmpty, "defined again, it is scheduled again")
        #expect(try a.claim(limit: 10, now: Date()).map(\.id) == ["s2"])
    }

    @Test func aNewEngineKeepsTheScheduleAndAnEngineThatLeavesGivesItsLeasesBack() async throws {
        let server = try Server()
        let a = try server.engine()
        _ = try a.join(["s1": "d", "s2": "d"], now: Date())
        let due = Date().addingTimeInterval(600)
        #expect(try a.claim(limit: 10, now: Date()).count == 2)
        try a.release("s1", nextDue: due)
        try a.leave()
        #expect(try a.cluster().engines.isEmpty && a.cluster().leases.isEmpty)

        let b = try server.engine()
        _ = try b.join(["s1": "d", "s2": "d"], now: Date())
        #expect(try b.claim(limit: 10, now: Date()).map(\.id) == ["s2"], "s1 is not due yet; s2 was given back")
        #expect(try b.claim(limit: 10, now: due.addingTimeInterval(1)).map(\.id) == ["s1"])
        #expect(try b.cluster().engines.map(\.name) == [b.engine])
    }

    @Test func aCallWhileTheServerRestartsWaitsForItOnANewConnection() async throws {
        let server = try Server()
        let store = try server.engine()
        try store.save("s1", FeedState(lastError: "before"))
        server.process.stop()
        // The call waits on its own thread (not one of the test run's few concurrency threads,
        // which other tests need) while another thread starts the server again.
        DispatchQueue.global().asyncAfter(deadline: .now() + 1.5) { try? server.process.start() }
        let started = Date()
        try await withCheckedThrowingContinuation { (done: CheckedContinuation<Void, any Error>) in
            Thread.detachNewThread {
                done.resume(with: Result { try store.save("s1", FeedState(lastError: "during")) })
            }
        }
        #expect(Date().timeIntervalSince(started) >= 1, "the call waited for the server")
        #expect(try store.feed("s1").lastError == "during")
    }

    @Test func storeURLs() throws {
        let url = try PostgresStoreURL.parse("postgres://sync@db.example:6432/outboard?password-env=PGPASS&lease=12")
            .get()
        #expect(url.user == "sync" && url.host == "db.example" && url.port == 6432 && url.database == "outboard")
        #expect(url.password == .environment("PGPASS") && url.leaseSeconds == 12)
        #expect("\(url)" == "postgres://sync@db.example:6432/outboard")
        #expect(throws: StoreURLError.self) { try url.configuration(environment: [:]) }
        for (bad, why) in [
            ("postgres://sync:secret@db/outboard", "the password may not be in the URL"),
            ("postgres://sync@db/", "name the database"),
            ("postgres://sync@db/outboard?sslmode=verify", "sslmode=verify is not a setting"),
            ("postgres://sync@db/outboard?lease=1", "lease=1 is not a number of seconds from 2 to 3600"),
        ] {
            guard case .failure(let e) = PostgresStoreURL.parse(bad) else {
                Issue.record("\(bad) was accepted")
                continue
            }
            #expect("\(e)".contains(why), "\(e)")
            #expect(!"\(e)".contains("secret"), "the error never shows a password")
        }
        do {
            _ = try PostgresStoreURL.parse("postgres://sync@db/outboard?password-env=NOPE").get().configuration(
                environment: [:])
        } catch {
            #expect("\(error)".contains("the password variable NOPE is not set"), "\(error)")
        }
    }
}
