import CalendarModel
import Testing

@testable import Recurrence

/// The two-thread paths `outboard ics expand` takes: series read in two halves, expanded into
/// two runs and read back in halves give exactly what one thread gives.
struct ConcurrentExpansionTests {
    /// Series whose instances share starts across both halves of the calendar (ties broken by
    /// the series' position), an override, and unknown zones met in both halves (by many
    /// series, and by one early and one late item) and in the second half only.
    static let calendar: String = {
        var lines: [String] = []
        for i in 0..<40 {
            let tzid = ["Europe/Berlin", "Nowhere/Both", "America/New_York"][i % 3]
            lines += Support.event(
                ["DTSTART;TZID=\(tzid):20260105T0900\(i % 2 == 0 ? "00" : "30")", "RRULE:FREQ=DAILY;COUNT=10"],
                uid: "series-\(i)")
        }
        lines.insert(contentsOf: Support.event(["DTSTART;TZID=Nowhere/Early:20260106T090000"], uid: "early"), at: 0)
        lines += Support.event(["DTSTART;TZID=Nowhere/Early:20260105T090000"], uid: "late")
        lines += Support.event(["DTSTART;TZID=Nowhere/Late:20260107T090000"], uid: "second-only")
        lines += Support.event(
            ["RECURRENCE-ID;TZID=Europe/Berlin:20260107T090000", "DTSTART;TZID=Europe/Berlin:20260107T093000"],
            uid: "series-0")
        return Support.calendar(lines)
    }()

    static let window = (Support.utc("20260101T000000Z"), Support.utc("20260201T000000Z"))

    @Test func seriesReadOnTwoThreadsAreTheSeriesAndProblemsOfOne() throws {
        let document = try ICalParser().parse(Self.calendar)
        let one = CalendarExpander(document: document)
        let two = CalendarExpander(document: document, concurrently: true)
        #expect(two.series.map(\.uid) == one.series.map(\.uid))
        #expect(two.diagnostics == one.diagnostics)
        // Each unknown TZID once, naming the series that met it first.
        #expect(one.diagnostics.filter { $0.kind == .unknownZone }.map(\.uid) == ["early", "series-1", "second-only"])
        // Equal but for the sources' identity (each expander reads its own).
        #expect(
            two.allInstances(from: Self.window.0, to: Self.window.1).map(\.description)
                == one.allInstances(from: Self.window.0, to: Self.window.1).map(\.description))
    }

    @Test(arguments: [1, 7, 1000, 100_000])
    func twoRunsReadInPiecesAreTheInstancesInTheOrderOfOneIterator(size: Int) throws {
        let expander = try Support.expander(Self.calendar)
        let expected = expander.allInstances(from: Self.window.0, to: Self.window.1)
        let runs = expander.instanceRuns(from: Self.window.0, to: Self.window.1)
        let pieces = runs.pieces(of: size)
        #expect(runs.count == expected.count)
        #expect(pieces.count == (expected.count + size - 1) / size)
        #expect(pieces.dropLast().allSatisfy { Array($0).count == size })
        #expect(pieces.flatMap { Array($0) } == expected)
        // Ties across the halves of the series: instances at one start come from both runs.
        #expect(Set(runs.first.map(\.start)).intersection(runs.second.map(\.start)).count > 5)
    }

    @Test func aCalendarWithoutSeriesGivesEmptyRuns() throws {
        let expander = try Support.expander(Support.calendar([]))
        let runs = expander.instanceRuns(from: Self.window.0, to: Self.window.1)
        #expect(runs.count == 0 && runs.pieces(of: 1).isEmpty)
    }
}
