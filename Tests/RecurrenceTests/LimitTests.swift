import CalendarModel
import Testing
@testable import Recurrence

/// Nothing loops forever or fills memory: impossible rules end with a diagnostic, windows bound
/// infinite rules, and a cap bounds each series per query.
struct LimitTests {
    static func series(_ lines: [String], options: ExpansionOptions = ExpansionOptions()) throws -> CalendarExpander {
        try Support.expander(Support.calendar(Support.event(lines)), options: options)
    }

    @Test(
        "rules that can never match end at once with a diagnostic, DTSTART alone remaining",
        arguments: [
            "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30",
            "FREQ=MONTHLY;BYMONTH=4,6,9,11;BYMONTHDAY=31",
            "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=-30",
        ])
    func impossibleRules(_ rule: String) throws {
        let e = try Self.series(["DTSTART:20260101T090000Z", "RRULE:\(rule)"])
        var it = e.instances(from: 0, to: .max)
        #expect(it.next()?.writtenStart.description == "20260101T090000Z")
        #expect(it.next() == nil)
        #expect(it.diagnostics.map(\.kind) == [.ruleNeverMatches])
        #expect(it.diagnostics.first?.message.contains("BYMONTHDAY") == true)
        #expect(it.diagnostics.first?.uid == "test")
    }

    @Test("a rule that only a 400-year scan shows to be impossible ends with a diagnostic")
    func impossibleOnlyByScanning() throws {
        // Every fourth year from 2025 is never a leap year, so February 29 never comes.
        let e = try Self.series(["DTSTART:20250228T090000Z", "RRULE:FREQ=YEARLY;INTERVAL=4;BYMONTH=2;BYMONTHDAY=29"])
        var it = e.instances(from: 0, to: .max)
        #expect(Array(IteratorSequence(it)).count == 1)
        while it.next() != nil {}
        #expect(it.diagnostics.map(\.kind) == [.ruleNeverMatches])
    }

    @Test("a rule with no instance for too many periods in a row is stopped with a diagnostic")
    func emptyPeriodBudget() throws {
        let e = try Self.series(
            ["DTSTART:20260101T090000Z", "RRULE:FREQ=SECONDLY;INTERVAL=2;BYSECOND=1"],
            options: ExpansionOptions(maxEmptyPeriods: 10_000))
        var it = e.instances(from: 0, to: .max)
        while it.next() != nil {}
        #expect(it.diagnostics.map(\.kind) == [.ruleGaveUp])
    }

    @Test("a window bounds an infinite rule, and a daily rule from 1970 jumps straight to the window")
    func windowOnInfiniteRule() throws {
        let e = try Self.series(["DTSTART;TZID=Europe/Berlin:19700101T090000", "RRULE:FREQ=DAILY"])
        let got = e.allInstances(from: Support.utc("20261130T000000Z"), to: Support.utc("20261207T000000Z"))
        #expect(
            got.map(\.writtenStart.description)
                == (30...36).map { d in
                    d == 30 ? "20261130T090000" : "202612\(d - 30 < 10 ? "0" : "")\(d - 30)T090000"
                })
        #expect(Support.utcText(got[0].start) == "20261130T080000Z")
    }

    @Test("a simple counted rule jumps ahead too, and stops at its COUNT")
    func countedSimpleRuleJumps() throws {
        let e = try Self.series(["DTSTART:19700101T090000Z", "RRULE:FREQ=DAILY;COUNT=20000"])
        let got = e.allInstances(from: Support.utc("20240101T000000Z"), to: Support.utc("20300101T000000Z"))
        // 20,000 days from 1970-01-01: the last is day 19,999, 2024-10-03.
        #expect(got.first?.writtenStart.description == "20240101T090000Z")
        #expect(got.last?.writtenStart.description == "20241003T090000Z")
    }

    @Test("a counted rule that cannot jump still counts from DTSTART")
    func countedComplexRule() throws {
        let e = try Self.series(["DTSTART:20000103T090000Z", "RRULE:FREQ=WEEKLY;BYDAY=MO,TU;COUNT=1000"])
        let got = e.allInstances(from: Support.utc("20090101T000000Z"), to: Support.utc("20300101T000000Z"))
        // 1000 instances, two a week: 500 weeks from 2000-01-03, the last on Tuesday 2009-07-28.
        #expect(got.last?.writtenStart.description == "20090728T090000Z")
        #expect(got.count == 60)
    }

    @Test("the per-series instance cap ends a query with a diagnostic, not a crash")
    func instanceCap() throws {
        let e = try Self.series(
            ["DTSTART:20260101T000000Z", "RRULE:FREQ=MINUTELY"], options: ExpansionOptions(instanceCap: 500))
        var it = e.instances(from: Support.utc("20260101T000000Z"), to: Support.utc("20270101T000000Z"))
        var n = 0
        while it.next() != nil { n += 1 }
        #expect(n == 500)
        #expect(it.diagnostics.map(\.kind) == [.instanceCap])
    }

    @Test("the default cap is 100,000 instances per series per query")
    func defaultCap() throws {
        let e = try Self.series(["DTSTART:20260101T000000Z", "RRULE:FREQ=MINUTELY"])
        var it = e.instances(from: Support.utc("20260101T000000Z"), to: Support.utc("20270101T000000Z"))
        var n = 0
        while it.next() != nil { n += 1 }
        #expect(n == 100_000)
        #expect(it.diagnostics.count == 1)
    }

    @Test(
        "an invalid rule is refused whole with a diagnostic naming the part; DTSTART remains",
        arguments: [
            ("FREQ=FORTNIGHTLY", "FREQ"), ("FREQ=DAILY;BYHOUR=25", "BYHOUR"), ("FREQ=MONTHLY;BYDAY=1XX", "BYDAY"),
            ("FREQ=DAILY;INTERVAL=0", "INTERVAL"), ("FREQ=YEARLY;BYMONTH=13", "BYMONTH"),
        ])
    func invalidRules(_ rule: String, _ part: String) throws {
        let e = try Self.series(["DTSTART:20260101T090000Z", "RRULE:\(rule)"])
        #expect(e.allInstances(from: 0, to: .max).count == 1)
        let invalid = e.diagnostics.filter { $0.kind == .invalidRule }
        #expect(invalid.count == 1)
        #expect(invalid.first?.message.contains(part) == true)
    }
}
