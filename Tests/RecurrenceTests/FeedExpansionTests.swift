import CalendarModel
import Testing
@testable import Recurrence

/// A feed-sized expansion: 1,500 series in four zones, ~26,000 instances in an 8-week window.
/// Its speed is measured by `outboard-bench expand`, never here.
struct FeedExpansionTests {
    static func feed() -> String {
        var lines: [String] = []
        for i in 0..<500 {
            lines += Support.event(
                [
                    "DTSTART;TZID=Europe/Berlin:20240101T\(10 + i % 8)0000", "DURATION:PT1H",
                    "RRULE:FREQ=WEEKLY;BYDAY=MO,WE,FR", "EXDATE;TZID=Europe/Berlin:20261104T\(10 + i % 8)0000",
                ],
                uid: "weekly-\(i)")
            lines += Support.event(
                [
                    "DTSTART;TZID=America/New_York:20250101T0\(8 + i % 2)3000", "DURATION:PT30M",
                    "RRULE:FREQ=DAILY;INTERVAL=3",
                ], uid: "daily-\(i)")
        }
        for i in 0..<250 {
            lines += Support.event(
                [
                    "DTSTART;TZID=Australia/Sydney:20200106T090000", "DTEND;TZID=Australia/Sydney:20200106T100000",
                    "RRULE:FREQ=MONTHLY;BYDAY=1MO,3TH",
                ], uid: "monthly-\(i)")
            lines += Support.event(
                ["DTSTART:20100105T120000Z", "RRULE:FREQ=WEEKLY;BYDAY=TU,TH;COUNT=2000"], uid: "counted-\(i)")
            lines += Support.event(["RECURRENCE-ID:20261110T120000Z", "DTSTART:20261110T150000Z"], uid: "counted-\(i)")
        }
        return Support.calendar(lines)
    }

    @Test("1,500 series expand to exactly the expected instances, in start order")
    func feedExpansion() throws {
        let e = try Support.expander(Self.feed())
        #expect(e.series.count == 1500)
        #expect(e.diagnostics.isEmpty)
        let got = e.allInstances(from: Support.utc("20261102T000000Z"), to: Support.utc("20261228T000000Z"))
        // Weekly MO/WE/FR: 24 in 8 weeks, less one EXDATE; daily every 3rd day from Jan 1, 2025: 18;
        // monthly 1MO/3TH at 09:00 Sydney: 3 (Monday Nov 2 is still Nov 1 in UTC, before the
        // window); the counted TU/TH series: 16, one of them moved (still 16).
        #expect(got.count == 500 * 23 + 500 * 18 + 250 * 3 + 250 * 16)
        #expect(zip(got, got.dropFirst()).allSatisfy { $0.start <= $1.start })
        #expect(got.filter(\.isOverride).count == 250)
    }
}
