import CalendarModel
import CalWS
import Foundation
import GRDB
import Recurrence
import SyncCore
@testable import TargetServer
import Testing
import TestSupport

/// The instance index is written with the entity (add, update, delete) and always gives the
/// answer an expansion on the fly gives.
@Suite struct InstanceIndexTests {
    /// Monday 2 March 2026, 00:00 UTC: the time of every write here.
    static let now = Date(timeIntervalSince1970: 1_772_409_600)
    static let collection = "/people/alice"

    static func calendar(_ lines: [String]) throws -> ICalComponent {
        let text =
            (["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//t//EN"] + lines + ["END:VCALENDAR"]).joined(
                separator: "\r\n") + "\r\n"
        return try ICalParser().parse(text).calendars[0]
    }

    static func weekly(until: String? = nil, extra: [String] = []) throws -> ICalComponent {
        try calendar(
            [
                "BEGIN:VEVENT", "UID:standup@x", "DTSTAMP:20260101T000000Z",
                "DTSTART;TZID=Europe/Berlin:20260302T090000",
                "DTEND;TZID=Europe/Berlin:20260302T100000", "RRULE:FREQ=WEEKLY" + (until.map { ";UNTIL=\($0)" } ?? ""),
                "SUMMARY:Standup",
            ] + extra + ["END:VEVENT"])
    }

    static func single(_ uid: String, _ start: String, _ end: String, extra: [String] = []) throws -> ICalComponent {
        try calendar(
            ["BEGIN:VEVENT", "UID:\(uid)", "DTSTAMP:20260101T000000Z", "DTSTART:\(start)", "DTEND:\(end)"] + extra + [
                "END:VEVENT"
            ])
    }

    struct Bed {
        let store: TargetStore
        let service: TargetService

        init() throws {
            store = try TargetStore(directory: TargetProcess.temporaryDirectory().path)
            service = TargetService(store: store)
        }

        init(store: TargetStore, service: TargetService) {
            self.store = store
            self.service = service
        }

        @discardableResult
        func run(_ body: CalWSRequest.Body) async throws -> CalWSResponse {
            let r = await service.handle(CalWSRequest(body), grants: Grants(all: true), now: InstanceIndexTests.now)
            #expect(r.result.status == .ok, "\(r.result.message ?? "")")
            return r
        }

        func add(_ calendar: ICalComponent) async throws -> (href: String, token: String) {
            guard
                case .addItem(let href?, let token?) = try await run(
                    .addItem(href: InstanceIndexTests.collection, calendar: calendar)
                ).body
            else {
                throw Failed()
            }
            return (href, token)
        }

        func update(_ href: String, token: String, to calendar: ICalComponent) async throws -> String {
            guard case .fetchItem(let info?) = try await run(.fetchItem(href: href)).body, let current = info.calendar
            else { throw Failed() }
            let update = Differ.diff(source: calendar, target: current)
            guard
                case .updateItem(let next?) = try await run(.updateItem(href: href, changeToken: token, update: update))
                    .body
            else { throw Failed() }
            return next
        }

        /// The index's rows: `name start status`, starts in UTC.
        func rows() async throws -> [String] {
            try await store.db.read { db in
                try Row.fetchAll(db, sql: "SELECT name, start_at, status FROM instance ORDER BY start_at, name").map {
                    r in
                    "\(r["name"] as String) \(RFC3339.utc(r["start_at"])) \(r["status"] as String)"
                }
            }
        }

        /// The collection's busy periods in `[from, to)` from the index (or on the fly, if the
        /// window is outside it), and always on the fly.
        func answers(from: String, to: String) async throws -> (index: [String], fly: [String]) {
            let (start, end) = (BusyRulesTests.utc(from), BusyRulesTests.utc(to))
            return try await store.db.read { db in
                func text(_ i: [BusyInstance]) -> [String] {
                    BusyRules.periods(i, in: .utc, from: start, to: end).map {
                        "\(RFC3339.utc($0.start)) \($0.status.rawValue)"
                    }.sorted()
                }
                let index = try InstanceIndex.instances(
                    db, collection: InstanceIndexTests.collection, from: start, to: end)
                let fly = try InstanceIndex.expanded(
                    db, collection: InstanceIndexTests.collection, from: start, to: end, onUnreadable: { _, _ in })
                return (text(index), text(fly))
            }
        }

        /// Whether a window is inside what the index holds for the collection.
        func indexed(from: String, to: String) async throws -> Bool {
            let (start, end) = (BusyRulesTests.utc(from), BusyRulesTests.utc(to))
            return try await store.db.read { db in
                let r = try Row.fetchOne(
                    db, sql: "SELECT indexed_from, indexed_to FROM collection WHERE path = ?",
                    arguments: [InstanceIndexTests.collection])
                guard let r, let f = r["indexed_from"] as Int64?, let t = r["indexed_to"] as Int64? else {
                    return false
                }
                return f <= start && end <= t
            }
        }
    }

    struct Failed: Error {}

    @Test func theIndexFollowsAddUpdateAndDeleteAndASeriesCutShortByANewUntil() async throws {
        let bed = try Bed()
        let (href, token) = try await bed.add(try Self.weekly())
        var rows = try await bed.rows()
        // Every Monday from 2 March 2026 to the horizon's end (400 days ahead: 6 April 2027).
        #expect(rows.count == 58)
        #expect(rows.first == "standup@x.ics 2026-03-02T08:00:00Z busy")
        #expect(rows[4] == "standup@x.ics 2026-03-30T07:00:00Z busy", "summer time in Berlin")
        #expect(rows.last == "standup@x.ics 2027-04-05T07:00:00Z busy")

        // A new UNTIL cuts the series short: the rows after it go in the same transaction.
        let token2 = try await bed.update(href, token: token, to: try Self.weekly(until: "20260316T235959Z"))
        rows = try await bed.rows()
        #expect(
            rows == [
                "standup@x.ics 2026-03-02T08:00:00Z busy", "standup@x.ics 2026-03-09T08:00:00Z busy",
                "standup@x.ics 2026-03-16T08:00:00Z busy",
            ])

        // An update that makes it tentative rewrites the rows' status.
        _ = try await bed.update(
            href, token: token2, to: try Self.weekly(until: "20260316T235959Z", extra: ["STATUS:TENTATIVE"]))
        #expect(try await bed.rows().map { $0.hasSuffix(" tentative") } == [true, true, true])

        let (other, _) = try await bed.add(try Self.single("lunch@x", "20260303T120000Z", "20260303T130000Z"))
        #expect(try await bed.rows().count == 4)
        try await bed.run(.deleteItem(href: href))
        #expect(try await bed.rows() == ["lunch@x.ics 2026-03-03T12:00:00Z busy"])
        try await bed.run(.deleteItem(href: other))
        #expect(try await bed.rows().isEmpty)
    }

    @Test func aFailedMultiOpLeavesTheIndexAsItWas() async throws {
        let bed = try Bed()
        _ = try await bed.add(try Self.single("lunch@x", "20260303T120000Z", "20260303T130000Z"))
        let ops = [
            CalWSRequest(.addItem(href: Self.collection, calendar: try Self.weekly())),
            CalWSRequest(.deleteItem(href: Self.collection + "/missing.ics")),
        ]
        let r = await bed.service.handle(CalWSRequest(.multiOp(ops)), grants: Grants(all: true), now: Self.now)
        #expect(r.result.status != .ok)
        #expect(try await bed.rows() == ["lunch@x.ics 2026-03-03T12:00:00Z busy"])
    }

    @Test func aQueryOutsideTheHorizonIsExpandedOnTheFlyWithTheSameAnswer() async throws {
        let bed = try Bed()
        _ = try await bed.add(try Self.weekly())
        _ = try await bed.add(try Self.single("lunch@x", "20260303T120000Z", "20260303T130000Z"))
        _ = try await bed.add(
            try Self.calendar([
                "BEGIN:VEVENT", "UID:day@x", "DTSTAMP:20260101T000000Z", "DTSTART;VALUE=DATE:20260304",
                "RRULE:FREQ=YEARLY", "END:VEVENT",
            ]))
        #expect(try await bed.indexed(from: "20260301T000000Z", to: "20260401T000000Z"))
        let inside = try await bed.answers(from: "20260301T000000Z", to: "20260401T000000Z")
        #expect(inside.index == inside.fly)
        #expect(inside.index.count == 7, "5 Mondays, lunch and the day")
        // 2028 is beyond the 400 days ahead, 2025 before the 42 days back.
        for (from, to) in [("20280301T000000Z", "20280401T000000Z"), ("20251201T000000Z", "20260308T000000Z")] {
            #expect(try await bed.indexed(from: from, to: to) == false)
            let outside = try await bed.answers(from: from, to: to)
            #expect(outside.index == outside.fly)
        }
        let far = try await bed.answers(from: "20280301T000000Z", to: "20280401T000000Z")
        #expect(far.index.count == 5, "4 Mondays and the day")
    }

    @Test func aStoreFromBeforeTheIndexIsMigratedAndAnsweredOnTheFly() async throws {
        let directory = TargetProcess.temporaryDirectory().path
        // A store as version 1 wrote it: an entity and no index.
        try await IndexUpkeepTests.versionOneStore(directory, entity: "old@x", "20260303T090000Z", "20260303T100000Z")
        let store = try TargetStore(directory: directory)
        let bed = Bed(store: store, service: TargetService(store: store))
        // A new write must not make the old entity look indexed.
        _ = try await bed.add(try Self.single("lunch@x", "20260303T120000Z", "20260303T130000Z"))
        #expect(try await bed.indexed(from: "20260301T000000Z", to: "20260401T000000Z") == false)
        let answer = try await bed.answers(from: "20260301T000000Z", to: "20260401T000000Z")
        #expect(answer.index == ["2026-03-03T09:00:00Z busy", "2026-03-03T12:00:00Z busy"])
        #expect(answer.index == answer.fly)
    }

    @Test func aSmallerHorizonIsTheConfiguredOne() async throws {
        let store = try TargetStore(directory: TargetProcess.temporaryDirectory().path)
        let service = TargetService(store: store, horizon: IndexHorizon(daysBack: 0, daysAhead: 14))
        _ = await service.handle(
            CalWSRequest(.addItem(href: Self.collection, calendar: try Self.weekly())), grants: Grants(all: true),
            now: Self.now)
        let count = try await store.db.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM instance") }
        #expect(count == 2, "2 and 9 March")
    }
}
