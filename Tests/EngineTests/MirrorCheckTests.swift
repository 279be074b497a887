import CalendarModel
import Engine
import EngineAdapters
import Filters
import Foundation
import Recurrence
import Testing

/// The consistency check: the filtered feed and the target's copy expanded and compared instance
/// by instance (`outboard verify`; the command itself is tested in OutboardCLITests).
@Suite struct MirrorCheckTests {
    /// 1 January to 1 March 2026.
    static let from = RFC3339.seconds(year: 2026, month: 1, day: 1)
    static let to = RFC3339.seconds(year: 2026, month: 3, day: 1)

    static func items(_ components: [String]) throws -> [ICalItem] {
        ItemGrouper.items(from: try ICalParser().parse(text(components))).items
    }

    /// A weekly series on Mondays at 09:00 UTC from 5 January (`rule`), with more master lines and
    /// components after it.
    static func series(rule: String = "FREQ=WEEKLY;COUNT=4", master: [String] = [], more: [String] = []) -> [String] {
        [
            "BEGIN:VEVENT", "UID:s@x", "DTSTART:20260105T090000Z", "DTEND:20260105T100000Z", "RRULE:\(rule)",
        ] + master + ["END:VEVENT"] + more
    }

    static func override(_ day: String, _ lines: [String]) -> [String] {
        ["BEGIN:VEVENT", "UID:s@x", "RECURRENCE-ID:202601\(day)T090000Z"] + lines + ["END:VEVENT"]
    }

    static let lunch = [
        "BEGIN:VEVENT", "UID:lunch@x", "DTSTART:20260107T120000Z", "DTEND:20260107T130000Z", "END:VEVENT",
    ]

    static func lines(
        feed: [String], target: [String], ignoring: InstanceComparison.Ignoring = InstanceComparison.Ignoring()
    ) throws -> [String] {
        InstanceComparison(
            feed: try items(feed), target: try items(target), from: from, to: to, calendarZone: nil, ignoring: ignoring
        ).differences.map(\.line)
    }

    @Test func equalSidesHaveNoDifferenceAndCancellationsCompareByMeaningNotByForm() throws {
        let feed = Self.series(more: Self.override("12", ["DTSTART:20260112T110000Z", "DTEND:20260112T120000Z"]))
        #expect(try Self.lines(feed: feed + Self.lunch, target: Self.lunch + feed) == [])
        // Cancelled by an EXDATE on one side and by a cancelled override on the other: both cancelled.
        let exdate = Self.series(master: ["EXDATE:20260119T090000Z"])
        let cancelled = Self.series(more: Self.override("19", ["DTSTART:20260119T090000Z", "STATUS:CANCELLED"]))
        #expect(try Self.lines(feed: exdate, target: cancelled) == [])
        #expect(try Self.lines(feed: cancelled, target: exdate) == [])
    }

    @Test func eachKindOfDifferenceIsOneLineNamingTheUIDAndTheInstanceInUTC() throws {
        let feed =
            Self.series(
                master: ["EXDATE:20260126T090000Z"],
                more: Self.override("12", ["DTSTART:20260112T110000Z", "DTEND:20260112T120000Z"])
                    + Self.override("19", ["DTSTART:20260119T090000Z", "DTEND:20260119T100000Z", "STATUS:CANCELLED"]))
            + Self.lunch
        let target =
            Self.series(
                master: ["EXDATE:20260105T090000Z"],
                more: Self.override("12", ["DTSTART:20260112T130000Z", "DTEND:20260112T140000Z"]))
            + ["BEGIN:VEVENT", "UID:extra@x", "DTSTART:20260210T080000Z", "DTEND:20260210T090000Z", "END:VEVENT"]
        #expect(
            try Self.lines(feed: feed, target: target) == [
                "cancelled-on-target uid=s@x instance=2026-01-05T09:00:00Z by=EXDATE feed=2026-01-05T09:00:00Z/2026-01-05T10:00:00Z",
                "missing uid=lunch@x instance=2026-01-07T12:00:00Z feed=2026-01-07T12:00:00Z/2026-01-07T13:00:00Z",
                "moved uid=s@x instance=2026-01-12T09:00:00Z feed=2026-01-12T11:00:00Z/2026-01-12T12:00:00Z target=2026-01-12T13:00:00Z/2026-01-12T14:00:00Z",
                "cancelled-in-feed uid=s@x instance=2026-01-19T09:00:00Z by=STATUS:CANCELLED feed=2026-01-19T09:00:00Z/2026-01-19T10:00:00Z target=2026-01-19T09:00:00Z/2026-01-19T10:00:00Z",
                "cancelled-in-feed uid=s@x instance=2026-01-26T09:00:00Z by=EXDATE target=2026-01-26T09:00:00Z/2026-01-26T10:00:00Z",
                "extra uid=extra@x instance=2026-02-10T08:00:00Z target=2026-02-10T08:00:00Z/2026-02-10T09:00:00Z",
            ])
    }

    @Test func aSeriesCutShortByANewUntilLeavesTheTargetsLaterInstancesExtra() throws {
        let cut = Self.series(rule: "FREQ=WEEKLY;UNTIL=20260120T000000Z")
        let old = Self.series(rule: "FREQ=WEEKLY")
        #expect(
            try Self.lines(feed: cut, target: old) == [
                "extra uid=s@x instance=2026-01-26T09:00:00Z target=2026-01-26T09:00:00Z/2026-01-26T10:00:00Z",
                "extra uid=s@x instance=2026-02-02T09:00:00Z target=2026-02-02T09:00:00Z/2026-02-02T10:00:00Z",
                "extra uid=s@x instance=2026-02-09T09:00:00Z target=2026-02-09T09:00:00Z/2026-02-09T10:00:00Z",
                "extra uid=s@x instance=2026-02-16T09:00:00Z target=2026-02-16T09:00:00Z/2026-02-16T10:00:00Z",
                "extra uid=s@x instance=2026-02-23T09:00:00Z target=2026-02-23T09:00:00Z/2026-02-23T10:00:00Z",
            ])
    }

    /// An instance moved far out of the window on one side is still found as moved, not missing.
    @Test func anInstanceMovedOutOfTheWindowIsMoved() throws {
        let feed = Self.series()
        let target = Self.series(more: Self.override("26", ["DTSTART:20260310T090000Z", "DTEND:20260310T100000Z"]))
        #expect(
            try Self.lines(feed: feed, target: target) == [
                "moved uid=s@x instance=2026-01-26T09:00:00Z feed=2026-01-26T09:00:00Z/2026-01-26T10:00:00Z target=2026-03-10T09:00:00Z/2026-03-10T10:00:00Z"
            ])
    }

    /// What the pass leaves alone by design is no difference: STATUS or EXDATE on the skip list
    /// (the target keeps its own), times on the skip list, and with `deletions: keep` the items
    /// the feed no longer has.
    @Test func whatThePassLeavesAloneByDesignIsNoDifference() throws {
        let feed = Self.series(
            more: Self.override("19", ["DTSTART:20260119T090000Z", "DTEND:20260119T100000Z", "STATUS:CANCELLED"]))
        let target = Self.series(master: ["EXDATE:20260112T090000Z"]) + Self.lunch
        #expect(try Self.lines(feed: feed, target: target).count == 3)
        let skip = SkipList(properties: ["STATUS", "EXDATE"])
        #expect(
            try Self.lines(
                feed: feed, target: target, ignoring: InstanceComparison.Ignoring(skip: skip, keepsDeletions: false))
                == ["extra uid=lunch@x instance=2026-01-07T12:00:00Z target=2026-01-07T12:00:00Z/2026-01-07T13:00:00Z"])
        #expect(
            try Self.lines(
                feed: feed, target: target, ignoring: InstanceComparison.Ignoring(skip: skip, keepsDeletions: true))
                == [])
        let moved = Self.series(more: Self.override("19", ["DTSTART:20260119T110000Z", "DTEND:20260119T120000Z"]))
        #expect(
            try Self.lines(
                feed: Self.series(), target: moved,
                ignoring: InstanceComparison.Ignoring(skip: SkipList(properties: ["DT*"]), keepsDeletions: false))
                == [])
    }

    // MARK: The check over the seams

    @Test func afterAPassTheMirrorIsEqualAndAnEditOnTheTargetIsFound() async throws {
        let bed = try MemoryBed()
        let feed =
            Self.series(more: Self.override("19", ["DTSTART:20260119T090000Z", "STATUS:CANCELLED"])) + Self.lunch
        bed.put("f.ics", Array(Self.text(feed).utf8))
        let s = try bed.subscription("s", feed: "f.ics", collection: "/c")
        let check = MirrorCheck(subscription: s, filters: bed.pipeline(s), target: bed.client, source: bed.feeds)

        // Nothing mirrored yet (the collection does not exist): every live instance is missing.
        let before = try await check.run(from: Self.from, to: Self.to)
        #expect(before.comparison.differences.map(\.kind) == [.missing, .missing, .missing, .missing])
        #expect(before.comparison.compared == 5)

        #expect(await bed.pass(s).succeeded)
        let after = try await check.run(from: Self.from, to: Self.to)
        #expect(after.comparison.differences == [])
        #expect((after.feedItems, after.targetItems) == (2, 2))

        let lunch = try #require(try await bed.memory.find(uid: "lunch@x", in: "/c"))
        bed.memory.edit(href: lunch.href) { calendar in
            calendar.components[0].properties.removeAll { $0.name == "DTSTART" }
            calendar.components[0].properties.append(
                ICalProperty(
                    "DTSTART",
                    .dateTime(ICalDateTime(year: 2026, month: 1, day: 7, hour: 11, minute: 0, second: 0, isUTC: true))))
        }
        let edited = try await check.run(from: Self.from, to: Self.to)
        #expect(
            edited.comparison.differences.map(\.line) == [
                "moved uid=lunch@x instance=2026-01-07T12:00:00Z feed=2026-01-07T12:00:00Z/2026-01-07T13:00:00Z target=2026-01-07T11:00:00Z/2026-01-07T13:00:00Z"
            ])
    }

    @Test func aDeadFeedOrTargetIsAFailureNamingIt() async throws {
        let bed = try MemoryBed()
        let s = try bed.subscription("s", feed: "nowhere.ics", collection: "/c")
        let check = MirrorCheck(subscription: s, filters: bed.pipeline(s), target: bed.client, source: bed.feeds)
        let feedError = await #expect(throws: MirrorCheck.Failure.self) {
            try await check.run(from: Self.from, to: Self.to)
        }
        #expect("\(feedError.map { "\($0)" } ?? "")".contains("404"))
        bed.put("nowhere.ics", Array(Self.text(Self.lunch).utf8))
        bed.switchable.isDown = true
        let targetError = await #expect(throws: MirrorCheck.Failure.self) {
            try await check.run(from: Self.from, to: Self.to)
        }
        #expect("\(targetError.map { "\($0)" } ?? "")".contains("cannot reach the target"))
    }

    static func text(_ components: [String]) -> String {
        (["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//t//EN"] + components + ["END:VCALENDAR"])
            .joined(separator: "\r\n") + "\r\n"
    }
}

extension MemoryBed {
    /// The subscription's filters, as the bed's passes run them.
    func pipeline(_ s: Subscription) -> FilterPipeline {
        FilterPipeline(input: s.inputFilters.compactMap { filters[$0] }, output: [])
    }
}
