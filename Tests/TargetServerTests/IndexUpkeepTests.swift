import CalendarModel
import CalWS
import Engine
import EngineAdapters
import Foundation
import GRDB
import Logging
import Recurrence
@testable import TargetServer
import Testing
import TestSupport

/// The index's upkeep: the daily extension (with an injected clock), a store from before the
/// index indexed by the first round, and `reindex` finding and fixing drift.
@Suite struct IndexUpkeepTests {
    typealias Index = InstanceIndexTests
    static let day: TimeInterval = 86_400

    /// Lets a waiting service go on once per `tick()`; a tick before the wait is kept.
    actor Ticker {
        private var waiting: [CheckedContinuation<Void, Never>] = []
        private var credits = 0

        func wait() async {
            if credits > 0 {
                credits -= 1
                return
            }
            await withCheckedContinuation { waiting.append($0) }
        }

        func tick() {
            if waiting.isEmpty { credits += 1 } else { waiting.removeFirst().resume() }
        }
    }

    /// The time a round of the service takes as now.
    final class Clock: @unchecked Sendable {
        // Unchecked: `date` is read and written under `lock`.
        private let lock = NSLock()
        private var date = Index.now
        var now: Date {
            get { lock.withLock { date } }
            set { lock.withLock { date = newValue } }
        }
    }

    @Test func theDailyRoundExtendsWhatFallsShortOfTheHorizonAndNothingElse() async throws {
        let bed = try Index.Bed()
        _ = try await bed.add(try Index.weekly())
        #expect(try await bed.rows().last == "standup@x.ics 2027-04-05T07:00:00Z busy")

        let clock = Clock()
        let ticker = Ticker()
        let (rounds, round) = AsyncStream<IndexUpkeep.Report>.makeStream()
        let service = IndexUpkeepService(
            upkeep: IndexUpkeep(store: bed.store), now: { clock.now },
            sleep: { _ in
                await ticker.wait()
                try Task.checkCancellation()
            }, logger: Logger(label: "test"), onRound: { round.yield($0) })
        let running = Task { try await service.run() }
        var reports = rounds.makeAsyncIterator()

        // At start: written at this instant, the entity covers the horizon already.
        let first = await reports.next()
        #expect(first?.extended == 0)

        // A day later it falls a day short: extended by the step (30 days) beyond the horizon.
        clock.now = Index.now + Self.day
        await ticker.tick()
        let next = await reports.next()
        let second = try #require(next)
        #expect((second.indexed, second.extended, second.rows) == (0, 1, 4))
        #expect(
            try await bed.rows().suffix(5) == [
                "standup@x.ics 2027-04-05T07:00:00Z busy", "standup@x.ics 2027-04-12T07:00:00Z busy",
                "standup@x.ics 2027-04-19T07:00:00Z busy", "standup@x.ics 2027-04-26T07:00:00Z busy",
                "standup@x.ics 2027-05-03T07:00:00Z busy",
            ])
        #expect(try await bed.indexed(from: "20270401T000000Z", to: "20270506T000000Z"))
        let april = try await bed.answers(from: "20270401T000000Z", to: "20270506T000000Z")
        #expect(april.index == april.fly)
        #expect(april.index.count == 5)

        // The next day nothing falls short.
        clock.now = Index.now + 2 * Self.day
        await ticker.tick()
        let third = await reports.next()
        #expect(third == IndexUpkeep.Report(indexed: 0, extended: 0, rows: 0, collections: 1))

        running.cancel()
        await ticker.tick()
        _ = await running.result
    }

    @Test func rowsOfInstancesThatEndedBeforeTheHorizonAreForgottenAndQueriedOnTheFly() async throws {
        let bed = try Index.Bed()
        _ = try await bed.add(try Index.weekly())
        #expect(try await bed.rows().first == "standup@x.ics 2026-03-02T08:00:00Z busy")
        // 120 days on, the horizon starts 42 days back, on 2026-05-19: the twelve standups
        // before it (2 March to 18 May) are forgotten, the rest extended as usual.
        var upkeep = IndexUpkeep(store: bed.store)
        upkeep.pruneBatch = 5  // three transactions: 5, 5 and 2 rows
        let report = try await upkeep.run(now: Index.now + 120 * Self.day)
        #expect(report.pruned == 12)
        #expect(try await bed.rows().first == "standup@x.ics 2026-05-25T07:00:00Z busy")
        #expect(try await bed.indexed(from: "20260519T000000Z", to: "20260901T000000Z"))
        // Before the horizon the index no longer answers; the query expands on the fly.
        #expect(try await bed.indexed(from: "20260301T000000Z", to: "20260401T000000Z") == false)
        let march = try await bed.answers(from: "20260301T000000Z", to: "20260401T000000Z")
        #expect(march.index == march.fly)
        #expect(march.index.count == 5)
        // Nothing more to forget the same day.
        #expect(try await upkeep.run(now: Index.now + 120 * Self.day).pruned == 0)
    }

    @Test func aStoreFromBeforeTheIndexIsIndexedByTheFirstRound() async throws {
        let directory = TargetProcess.temporaryDirectory().path
        try await Self.versionOneStore(directory, entity: "old@x", "20260303T090000Z", "20260303T100000Z")
        let store = try TargetStore(directory: directory)
        let bed = Index.Bed(store: store, service: TargetService(store: store))
        #expect(try await bed.indexed(from: "20260301T000000Z", to: "20260401T000000Z") == false)
        #expect(try await bed.rows().isEmpty)

        let report = try await IndexUpkeep(store: store).run(now: Index.now)
        #expect((report.indexed, report.extended, report.rows) == (1, 0, 1))
        #expect(try await bed.rows() == ["old@x.ics 2026-03-03T09:00:00Z busy"])
        #expect(try await bed.indexed(from: "20260301T000000Z", to: "20260401T000000Z"))
        let answer = try await bed.answers(from: "20260301T000000Z", to: "20260401T000000Z")
        #expect(answer.index == ["2026-03-03T09:00:00Z busy"])
        #expect(answer.index == answer.fly)
    }

    @Test func reindexCheckFindsDriftedRowsAndReindexWritesTheDerivedOnes() async throws {
        let bed = try Index.Bed()
        _ = try await bed.add(try Index.weekly())
        _ = try await bed.add(try Index.single("lunch@x", "20260303T120000Z", "20260303T130000Z"))
        let right = try await bed.rows()
        try await Self.drift(bed.store.db)
        let check = IndexCheck(store: bed.store)
        let drifted = [
            "/people/alice/lunch@x.ics (UID lunch@x): missing 2026-03-03T12:00:00Z/2026-03-03T13:00:00Z busy",
            "/people/alice/lunch@x.ics (UID lunch@x): stale 2026-03-03T13:00:00Z/2026-03-03T14:00:00Z busy",
            "/people/alice/standup@x.ics (UID standup@x): missing 2026-03-09T08:00:00Z/2026-03-09T09:00:00Z busy",
        ]
        let found = try await check.run(collection: nil, fix: false, now: Index.now)
        #expect(
            found.flatMap(\.lines)
                == drifted + ["/people/alice: 2 entities, 2 drifted (3 rows differ); nothing written (--check)"])
        #expect(try await bed.rows() != right, "a check writes nothing")

        let fixed = try await check.run(collection: Index.collection, fix: true, now: Index.now)
        #expect(fixed.flatMap(\.lines) == drifted + ["/people/alice: 2 entities, 2 drifted (3 rows differ); corrected"])
        #expect(try await bed.rows() == right)
        let again = try await check.run(collection: nil, fix: false, now: Index.now)
        #expect(again.flatMap(\.lines) == ["/people/alice: 2 entities, the index is right"])
        await #expect(throws: TargetServer.TargetError.self) {
            try await check.run(collection: "/nope", fix: false, now: Index.now)
        }
    }

    /// The real binary beside a running server on the same data: `reindex --check` exits 1 on
    /// drift, `reindex` corrects it, and an unknown collection is an error (2).
    @Test func reindexRunsBesideTheServer() async throws {
        let server = try TargetProcess.start()
        defer { server.stop() }
        let client = TargetClient(endpoint: server.endpoint, token: TargetProcess.token)
        _ = try await client.addItem(
            collection: Index.collection, calendar: try Index.single("lunch@x", "20990303T120000Z", "20990303T130000Z"))
        _ = try await client.addItem(collection: Index.collection, calendar: try Index.weekly())
        let db = try DatabaseQueue(path: server.dataDirectory.appendingPathComponent("target.sqlite").path)
        try await Self.drift(db)
        try db.close()

        let data = ["--data", server.dataDirectory.path]
        let check = try Self.reindex(["--check"] + data)
        #expect(check.code == 1)
        #expect(check.out.contains("/people/alice/standup@x.ics (UID standup@x): missing "), "\(check.out)")
        #expect(check.out.hasSuffix("; nothing written (--check)\n"))
        #expect(try Self.reindex(data).code == 0)
        #expect(try Self.reindex(["--check"] + data).out == "/people/alice: 2 entities, the index is right\n")
        let unknown = try Self.reindex(["--check", "/nope"] + data)
        #expect(unknown.code == 2)
        #expect(unknown.err.contains("no collection /nope"))
        // The server still answers, with the corrected index.
        #expect(try await client.list(collection: Index.collection).count == 2)
    }

    /// The lunch's row an hour late, and the standup's second row gone.
    static func drift(_ db: any DatabaseWriter) async throws {
        try await db.write { db in
            try db.execute(
                sql: "UPDATE instance SET start_at = start_at + 3600, end_at = end_at + 3600 WHERE name = 'lunch@x.ics'"
            )
            try db.execute(
                sql: """
                    DELETE FROM instance WHERE rowid = (SELECT rowid FROM instance WHERE name = 'standup@x.ics'
                    ORDER BY start_at LIMIT 1 OFFSET 1)
                    """)
        }
    }

    /// Runs `outboard-target reindex ARGS` and waits for it (it reads a small store).
    static func reindex(_ args: [String]) throws -> (code: Int32, out: String, err: String) {
        let p = Process()
        p.executableURL = TargetProcess.executable
        p.arguments = ["reindex"] + args
        let (out, err) = (Pipe(), Pipe())
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let o = out.fileHandleForReading.readDataToEndOfFile()
        let e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitForExit()
        return (p.terminationStatus, String(decoding: o, as: UTF8.self), String(decoding: e, as: UTF8.self))
    }

    /// A store as version 1 wrote it: one entity, no index.
    static func versionOneStore(_ directory: String, entity uid: String, _ start: String, _ end: String) async throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let old = try DatabaseQueue(path: directory + "/target.sqlite")
        try TargetStore.migrator.migrate(old, upTo: "v1: collections and entities")
        let data =
            ([
                "BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//t//EN", "BEGIN:VEVENT", "UID:\(uid)",
                "DTSTAMP:20260101T000000Z", "DTSTART:\(start)", "DTEND:\(end)", "END:VEVENT", "END:VCALENDAR",
            ]).joined(separator: "\r\n") + "\r\n"
        try await old.write { db in
            try db.execute(
                sql: "INSERT INTO collection (path, revision, created) VALUES (?, 1, '20260101T000000Z')",
                arguments: [Index.collection])
            try db.execute(
                sql: "INSERT INTO entity VALUES (?, ?, ?, ?, 'r1', '20260101T000000Z')",
                arguments: [Index.collection, "\(uid).ics", uid, data])
        }
        try old.close()
    }
}
