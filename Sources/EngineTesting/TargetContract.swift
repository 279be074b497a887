import CalendarModel
import Engine
import Foundation
import SyncCore

/// What every `CalendarTarget` must do (vdirsyncer's storage tests are the model): a new target
/// is admitted by running each requirement against it from its own tests, e.g.
///
///     @Test(arguments: TargetContract.requirements)
///     func myTarget(_ r: TargetContract.Requirement) async throws {
///         try await r.check(MyTargetFixture.make())
///     }
///
/// A requirement throws a `ContractViolation` naming what the target did wrong. Requirements a
/// target's capabilities rule out (fences, freshness reports) check that it says so honestly.
public enum TargetContract {
    /// The target under test, as a fixture gives it.
    public struct Subject: ContractSubject {
        /// Credentials that may read and write every collection under `root`.
        public var target: any CalendarTarget
        /// Credentials that may read `ROOT/r` but not write it; nil for a target that checks no
        /// credentials (a test server without authentication).
        public var reader: (any CalendarTarget)?
        /// The largest entity (as iCalendar bytes) the target takes.
        public var maxEntityBytes: Int
        /// Where the requirements make their collections (`ROOT/a`, `ROOT/r`, ...): `/c`, or a
        /// path the target serves collections under (such as `/dav/c`).
        public var root: String
        /// Ends what the fixture started.
        public var stop: @Sendable () -> Void

        public init(
            target: any CalendarTarget, reader: (any CalendarTarget)?, maxEntityBytes: Int, root: String = "/c",
            stop: @escaping @Sendable () -> Void = {}
        ) {
            self.target = target
            self.reader = reader
            self.maxEntityBytes = maxEntityBytes
            self.root = root
            self.stop = stop
        }
    }

    public typealias Requirement = ContractRequirement<Subject>

    public static let requirements: [Requirement] = [
        Requirement("entities are added, fetched, listed with their values, found by UID", adding),
        Requirement("every update needs the current version and gives a new one", versions),
        Requirement("a batch answers each write, a refused one applying nothing", batches),
        Requirement("refusals say why: not found, UID exists, too large, forbidden", refusals),
        Requirement("older passes are fenced out, or the target says it cannot fence", fences),
        Requirement("a collection's zone is the one its freshness report gave", freshness),
    ]

    // MARK: Requirements

    static func adding(_ s: Subject) async throws {
        let t = s.target
        try expect(
            await reason { _ = try await t.list(collection: "\(s.root)/none") } == .notFound,
            "a missing collection is notFound")
        let (href, version) = try await t.apply(.add(collection: "\(s.root)/a", calendar: try event("one@x", "One")))
        try expect(href.hasPrefix("\(s.root)/a/") && !(version ?? "").isEmpty, "an add answers its href and version")
        let fetched = try await t.entry(href: href)
        try expect(fetched.version == version && summary(fetched) == "One", "an entry is the entity as added")
        let listed = try await t.list(collection: "\(s.root)/a")
        try expect(listed.map(\.href) == [href] && listed[0].version == version, "a listing gives href and version")
        try expect(listed[0].uid == "one@x", "a listing names each entity's UID")
        try expect(listed[0].lastModified != nil, "a listing gives each entity's LAST-MODIFIED")
        try expect(listed[0].calendar == nil, "a listing without data carries no calendar data")
        try expect(
            summary(try await t.list(collection: "\(s.root)/a", withData: true).first) == "One",
            "a listing with data is whole"
        )
        try expect(try await t.find(uid: "one@x", in: "\(s.root)/a")?.href == href, "an entity is found by UID")
        try expect(try await t.find(uid: "two@x", in: "\(s.root)/a") == nil, "an unknown UID is found nowhere")
        let some = try await t.entries(collection: "\(s.root)/a", hrefs: [href, "\(s.root)/a/none.ics"])
        try expect(some.map(\.href) == [href] && summary(some.first) == "One", "entries leave out unknown hrefs")
        let stamps = try await t.entries(collection: "\(s.root)/a", hrefs: [href], withData: false)
        try expect(stamps.first?.lastModified == listed[0].lastModified, "entries without data are a listing")
    }

    static func versions(_ s: Subject) async throws {
        let t = s.target
        let (href, first) = try await t.apply(.add(collection: "\(s.root)/u", calendar: try event("u@x", "Before")))
        let copy = try await t.entry(href: href)
        let stampBefore = try await t.list(collection: "\(s.root)/u").first?.lastModified
        // LAST-MODIFIED on the target must move with a write for trust-lastmod to notice edits.
        try await Task.sleep(nanoseconds: 1_100_000_000)
        let (_, second) = try await t.apply(
            .update(href: href, version: first!, changes: try rename(copy, to: "After")))
        try expect(second != nil && second != first, "an update gives a new version")
        try expect(summary(try await t.entry(href: href)) == "After", "an update applies its changes")
        try expect(
            try await t.list(collection: "\(s.root)/u").first?.lastModified != stampBefore,
            "an update moves LAST-MODIFIED")
        let stale = await reason {
            try await t.apply(.update(href: href, version: first!, changes: try rename(copy, to: "Lost")))
        }
        try expect(
            stale == .versionStale, "an update of an old version is versionStale (was \(String(describing: stale)))")
        try expect(summary(try await t.entry(href: href)) == "After", "a refused update applies nothing")
        try await t.apply(.delete(href: href, version: second))
        try expect(await reason { _ = try await t.entry(href: href) } == .notFound, "a deleted entity is gone")
        try expect(
            await reason { try await t.apply(.delete(href: href, version: nil)) } == .notFound,
            "deleting it again is notFound")
    }

    static func batches(_ s: Subject) async throws {
        let t = s.target
        let (href, version) = try await t.apply(.add(collection: "\(s.root)/m", calendar: try event("m1@x", "One")))
        let copy = try await t.entry(href: href)
        let good = await t.write([
            .add(collection: "\(s.root)/m", calendar: try event("m2@x", "Two")),
            .update(href: href, version: version!, changes: try rename(copy, to: "One, renamed")),
        ])
        guard good.count == 2, case .applied = good[0], case .applied = good[1] else {
            throw ContractViolation("a batch of two good writes answers two applied outcomes, not \(good)")
        }
        // The second write's version is stale now: it alone is refused, the first applied.
        let mixed = await t.write([
            .add(collection: "\(s.root)/m", calendar: try event("m3@x", "Three")),
            .update(href: href, version: version!, changes: try rename(copy, to: "Lost")),
        ])
        guard mixed.count == 2, case .applied = mixed[0], case .refused(let e) = mixed[1], e.reason == .versionStale
        else { throw ContractViolation("a batch with a stale update answers applied, versionStale; not \(mixed)") }
        try expect(
            try await t.find(uid: "m3@x", in: "\(s.root)/m") != nil, "the good write of a mixed batch is applied")
        try expect(summary(try await t.entry(href: href)) == "One, renamed", "the refused write applied nothing")
        try expect(try await t.list(collection: "\(s.root)/m").count == 3, "the collection holds what was applied")
    }

    static func refusals(_ s: Subject) async throws {
        let t = s.target
        let (href, _) = try await t.apply(.add(collection: "\(s.root)/r", calendar: try event("r@x", "One")))
        let again = await reason {
            try await t.apply(.add(collection: "\(s.root)/r", calendar: try event("r@x", "Again")))
        }
        try expect(
            again == .uidExists(href: href),
            "an add of a UID the collection has names its href (\(String(describing: again)))")
        try expect(
            await reason {
                _ = try await t.apply(
                    .update(
                        href: "\(s.root)/r/none.ics", version: "x",
                        changes: ComponentUpdate(selector: ComponentSelector(name: "VCALENDAR"))))
            }
                == .notFound, "an update of nothing is notFound")
        let big = try event("big@x", String(repeating: "x", count: s.maxEntityBytes + 1))
        try expect(
            await reason { try await t.apply(.add(collection: "\(s.root)/r", calendar: big)) } == .tooLarge,
            "an entity over the limit is tooLarge")
        try expect(try await t.find(uid: "big@x", in: "\(s.root)/r") == nil, "a refused add applies nothing")
        guard let reader = s.reader else { return }
        try expect(try await reader.list(collection: "\(s.root)/r").count == 1, "the reader may read")
        let forbidden = await reason {
            try await reader.apply(.add(collection: "\(s.root)/r", calendar: try event("w@x", "W")))
        }
        try expect(
            forbidden == .forbidden,
            "a write the credentials are not granted is forbidden (\(String(describing: forbidden)))")
        try expect(try await t.list(collection: "\(s.root)/r").count == 1, "a forbidden write applies nothing")
    }

    static func fences(_ s: Subject) async throws {
        let target = s.target
        let old = target.fenced(by: PassStamp(writer: "w", number: 7))
        let new = target.fenced(by: PassStamp(writer: "w", number: 8))
        let (href, version) = try await old.apply(.add(collection: "\(s.root)/f", calendar: try event("f1@x", "One")))
        _ = try await old.list(collection: "\(s.root)/f")  // a pass's own reads never fence it out
        _ = try await new.list(collection: "\(s.root)/f")
        let late = await reason {
            try await old.apply(.add(collection: "\(s.root)/f", calendar: try event("f2@x", "Two")))
        }
        guard target.capabilities.fencing else {
            try expect(late == nil, "a target that cannot fence applies an older pass's write")
            return
        }
        // Pass 7's writes arrive after pass 8 read the collection: refused, nothing applied.
        try expect(late == .fenced, "an older pass's add is fenced (\(String(describing: late)))")
        let copy = try await target.entry(href: href)
        try expect(
            await reason {
                try await old.apply(.update(href: href, version: version!, changes: try rename(copy, to: "Late")))
            }
                == .fenced, "an older pass's update is fenced")
        try expect(
            await reason { try await old.apply(.delete(href: href, version: nil)) } == .fenced,
            "an older pass's delete is fenced")
        try expect(try await target.list(collection: "\(s.root)/f").count == 1, "fenced writes applied nothing")
        // Pass 8 writes; so does a client that numbers no pass; a write raises the fence too.
        try await new.apply(.add(collection: "\(s.root)/f", calendar: try event("f4@x", "Four")))
        try await target.apply(.add(collection: "\(s.root)/f", calendar: try event("f5@x", "Five")))
        try await target.fenced(by: PassStamp(writer: "w", number: 9)).apply(
            .add(collection: "\(s.root)/f", calendar: try event("f6@x", "Six")))
        // Another writer (a status store that replaced a lost one) is not fenced by these numbers.
        try await target.fenced(by: PassStamp(writer: "other", number: 1)).apply(
            .add(collection: "\(s.root)/f", calendar: try event("f8@x", "Eight")))
        try expect(
            await reason { try await new.apply(.add(collection: "\(s.root)/f", calendar: try event("f7@x", "Seven"))) }
                == .fenced,
            "a write raises the fence too")
        // Another collection has a fence of its own.
        try await old.apply(.add(collection: "\(s.root)/other", calendar: try event("o1@x", "Other")))
    }

    static func freshness(_ s: Subject) async throws {
        let t = s.target
        try expect(
            await reason { _ = try await t.describe(collection: "\(s.root)/z") } == .notFound,
            "a missing collection is notFound")
        try await t.apply(.add(collection: "\(s.root)/z", calendar: try event("z@x", "Zoned")))
        try expect(try await t.describe(collection: "\(s.root)/z")?.timezone == nil, "a new collection has no zone")
        guard t.capabilities.freshnessReports else { return }
        func report(_ zone: String?) async throws {
            try await t.reportFreshness(
                CollectionFreshness(href: "\(s.root)/z", subscription: "z", refreshInterval: 60, timezone: zone))
        }
        try await report("Europe/Berlin")
        try expect(
            try await t.describe(collection: "\(s.root)/z")?.timezone == "Europe/Berlin", "a report gives the zone")
        try await report(nil)
        try expect(
            try await t.describe(collection: "\(s.root)/z")?.timezone == nil, "a report without a zone removes it")
    }

    // MARK: Helpers

    public static func event(_ uid: String, _ summary: String) throws -> ICalComponent {
        let text =
            [
                "BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//t//EN", "BEGIN:VEVENT", "UID:\(uid)",
                "DTSTAMP:20260101T000000Z", "DTSTART:20260301T150000Z", "SUMMARY:\(summary)", "END:VEVENT",
                "END:VCALENDAR",
            ].joined(separator: "\r\n") + "\r\n"
        return try ICalParser().parse(text).calendars[0]
    }

    static func summary(_ e: TargetEntry?) -> String? {
        e?.calendar?.components.first { $0.name == "VEVENT" }?.property("SUMMARY")?.text
    }

    /// The reason `body` failed with; nil when it did not.
    static func reason(_ body: () async throws -> Void) async -> TargetError.Reason? {
        do { try await body() } catch let e as TargetError { return e.reason } catch { return .invalid }
        return nil
    }

    /// The changes that rename the entity `e`.
    static func rename(_ e: TargetEntry, to summary: String) throws -> ComponentUpdate {
        let item = ItemGrouper.items(from: ICalDocument(calendars: [try event(e.uid!, summary)])).items[0]
        let current = ItemGrouper.items(from: ICalDocument(calendars: [e.calendar!])).items[0]
        return Differ.diff(source: item, target: current, skip: .defaults)
    }

}
