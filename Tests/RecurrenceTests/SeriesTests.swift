import CalendarModel
import Testing
@testable import Recurrence

/// Recurrence sets: EXDATE, RDATE, overrides (moved, cancelled, THISANDFUTURE), durations.
struct SeriesTests {
    static let window = (from: "20000101T000000Z", to: "20400101T000000Z")

    static func expand(_ lines: [String], more: [String] = []) throws -> [RecurrenceInstance] {
        let text = Support.calendar(Support.event(lines) + more)
        return try Support.expander(text).allInstances(from: Support.utc(window.from), to: Support.utc(window.to))
    }

    static func override(_ lines: [String]) -> [String] { Support.event(lines) }

    @Test("EXDATEs in another zone, in UTC and as a DATE remove the instances they name; COUNT still counts them")
    func exdatesInOtherZones() throws {
        let got = try Self.expand([
            "DTSTART;TZID=Europe/Berlin:20260105T090000", "RRULE:FREQ=DAILY;COUNT=5",
            "EXDATE;TZID=America/New_York:20260107T030000", "EXDATE:20260108T080000Z", "EXDATE;VALUE=DATE:20260109",
        ])
        #expect(got.map(\.writtenStart.description) == ["20260105T090000", "20260106T090000"])
    }

    @Test("RDATEs join the set (a PERIOD with its own length), duplicates of rule instances are listed once")
    func rdates() throws {
        // RFC 6321 B.2's event: daily at noon for 5 days, one extra 2-hour meeting at 15:00, one moved.
        let got = try Self.expand(
            [
                "DTSTART;TZID=US/Eastern:20060102T120000", "DURATION:PT1H", "RRULE:FREQ=DAILY;COUNT=5",
                "RDATE;TZID=US/Eastern;VALUE=PERIOD:20060102T150000/PT2H", "RDATE;TZID=US/Eastern:20060103T120000",
            ],
            more: Self.override([
                "RECURRENCE-ID;TZID=US/Eastern:20060104T120000", "DTSTART;TZID=US/Eastern:20060104T140000",
                "DURATION:PT1H", "SUMMARY:Event #2 bis",
            ]))
        #expect(
            got.map { Support.utcText($0.start) } == [
                "20060102T170000Z", "20060102T200000Z", "20060103T170000Z",
                "20060104T190000Z", "20060105T170000Z", "20060106T170000Z",
            ])
        #expect(got.map { ($0.end - $0.start) / 60 } == [60, 120, 60, 60, 60, 60])
        #expect(got.map(\.isOverride) == [false, false, false, true, false, false])
        #expect(got[3].summary == "Event #2 bis")
        #expect(got[3].writtenRecurrenceID.description == "20060104T120000")
    }

    @Test("DTSTART is the first instance even when the rule does not produce it")
    func dtstartAlwaysCounts() throws {
        let got = try Self.expand(["DTSTART:20260106T090000Z", "RRULE:FREQ=WEEKLY;BYDAY=MO;COUNT=3"])
        #expect(got.map(\.writtenStart.description) == ["20260106T090000Z", "20260112T090000Z", "20260119T090000Z"])
    }

    @Test("a moved override replaces its instance, matched as an instant across zones, and sorts by its new start")
    func movedOverride() throws {
        let got = try Self.expand(
            [
                "DTSTART;TZID=Europe/Berlin:20260105T100000", "DTEND;TZID=Europe/Berlin:20260105T110000",
                "RRULE:FREQ=WEEKLY;COUNT=4", "SUMMARY:Weekly",
            ],
            more: Self.override([
                "RECURRENCE-ID:20260112T090000Z", "DTSTART;TZID=America/New_York:20260120T080000",
                "DTEND;TZID=America/New_York:20260120T083000", "SUMMARY:Moved",
            ]))
        #expect(
            got.map { Support.utcText($0.start) } == [
                "20260105T090000Z", "20260119T090000Z", "20260120T130000Z",
                "20260126T090000Z",
            ])
        #expect(got.map(\.summary) == ["Weekly", "Weekly", "Moved", "Weekly"])
        #expect(got[2].recurrenceID == Support.utc("20260112T090000Z"))
        #expect(got[2].end - got[2].start == 1800)
        #expect(got[2].tzid == "America/New_York")
    }

    @Test("an override whose instance the rule no longer produces still counts as an instance")
    func orphanOverride() throws {
        let got = try Self.expand(
            ["DTSTART:20260105T100000Z", "RRULE:FREQ=WEEKLY;COUNT=2"],
            more: Self.override(["RECURRENCE-ID:20260107T100000Z", "DTSTART:20260107T120000Z"]))
        #expect(got.map(\.writtenStart.description) == ["20260105T100000Z", "20260107T120000Z", "20260112T100000Z"])
    }

    @Test("a cancelled override is still yielded, with its status")
    func cancelledOverride() throws {
        let got = try Self.expand(
            ["DTSTART;VALUE=DATE:20260105", "RRULE:FREQ=DAILY;COUNT=3", "STATUS:CONFIRMED"],
            more: Self.override([
                "RECURRENCE-ID;VALUE=DATE:20260106", "DTSTART;VALUE=DATE:20260106",
                "STATUS:CANCELLED",
            ]))
        #expect(got.map(\.isCancelled) == [false, true, false])
        #expect(got.map(\.status) == ["CONFIRMED", "CANCELLED", "CONFIRMED"])
        #expect(got.allSatisfy { $0.isAllDay })
        #expect(got.map(\.writtenStart.description) == ["20260105", "20260106", "20260107"])
    }

    @Test("RANGE=THISANDFUTURE moves and reshapes every later instance, not the earlier ones")
    func thisAndFuture() throws {
        let got = try Self.expand(
            [
                "DTSTART;TZID=Europe/Berlin:20260105T100000", "DTEND;TZID=Europe/Berlin:20260105T110000",
                "RRULE:FREQ=WEEKLY;COUNT=6", "SUMMARY:Standup", "TRANSP:OPAQUE",
            ],
            more: Self.override([
                "RECURRENCE-ID;RANGE=THISANDFUTURE;TZID=Europe/Berlin:20260119T100000",
                "DTSTART;TZID=Europe/Berlin:20260119T113000", "DTEND;TZID=Europe/Berlin:20260119T130000",
                "SUMMARY:Standup (later)", "TRANSP:TRANSPARENT",
            ]))
        #expect(
            got.map(\.writtenStart.description) == [
                "20260105T100000", "20260112T100000", "20260119T113000",
                "20260126T113000", "20260202T113000", "20260209T113000",
            ])
        #expect(got.map { $0.end - $0.start } == [3600, 3600, 5400, 5400, 5400, 5400])
        #expect(got.map(\.summary) == ["Standup", "Standup"] + Array(repeating: "Standup (later)", count: 4))
        #expect(got.map(\.transp) == ["OPAQUE", "OPAQUE"] + Array(repeating: "TRANSPARENT", count: 4))
        #expect(got.map(\.isOverride) == [false, false, true, false, false, false])
        #expect(got[3].writtenRecurrenceID.description == "20260126T100000")
    }

    @Test("RANGE=THISANDFUTURE keeps the new wall time across a change of DST, however its RECURRENCE-ID is written")
    func thisAndFutureAcrossDST() throws {
        // Weekly at 09:00 in New York; from 22 October on at 10:00. DST ends on 1 November 2026,
        // so 10:00 is 14:00Z before and 15:00Z after: the shift is one of wall time, not seconds.
        for rid in [
            "RECURRENCE-ID;RANGE=THISANDFUTURE;TZID=America/New_York:20261022T090000",
            "RECURRENCE-ID;RANGE=THISANDFUTURE:20261022T130000Z",
        ] {
            let got = try Self.expand(
                [
                    "DTSTART;TZID=America/New_York:20261015T090000", "DTEND;TZID=America/New_York:20261015T093000",
                    "RRULE:FREQ=WEEKLY;COUNT=4",
                ],
                more: Self.override([
                    rid, "DTSTART;TZID=America/New_York:20261022T100000", "DTEND;TZID=America/New_York:20261022T103000",
                ]))
            #expect(
                got.map { Support.utcText($0.start) } == [
                    "20261015T130000Z", "20261022T140000Z", "20261029T140000Z", "20261105T150000Z",
                ], "\(rid)")
            #expect(got.map(\.writtenStart.description).last == "20261105T100000")
            #expect(got.map { $0.end - $0.start } == [1800, 1800, 1800, 1800])
        }
    }

    @Test("a window that holds only an instance moved into it still finds it")
    func movedIntoTheWindow() throws {
        let text = Support.calendar(
            Support.event(["DTSTART:20260105T100000Z", "RRULE:FREQ=DAILY"])
                + Self.override(["RECURRENCE-ID:20260105T100000Z", "DTSTART:20260301T103000Z"]))
        let got = try Support.expander(text).allInstances(
            from: Support.utc("20260301T101500Z"), to: Support.utc("20260301T104500Z"))
        #expect(got.map { "\($0.writtenStart) \($0.isOverride)" } == ["20260301T103000Z true"])
    }

    @Test("DTEND is an exact duration, DURATION in days keeps the wall time across DST, hours are exact")
    func durationsAcrossDST() throws {
        let start = "DTSTART;TZID=Europe/Berlin:20260328T120000"
        let exact = try Self.expand([start, "DTEND;TZID=Europe/Berlin:20260328T130000", "RRULE:FREQ=DAILY;COUNT=2"])
        #expect(exact.map { $0.end - $0.start } == [3600, 3600])
        let nominal = try Self.expand([start, "DURATION:P1D"])
        #expect(nominal.map { $0.end - $0.start } == [23 * 3600])
        #expect(nominal.first?.writtenEnd.description == "20260329T120000")
        let hours = try Self.expand([start, "DURATION:PT24H"])
        #expect(hours.first?.writtenEnd.description == "20260329T130000")
    }

    @Test("a DATE event lasts a day by default, a DATE-TIME event without end is zero-length, a VTODO ends at DUE")
    func defaultDurations() throws {
        let day = try Self.expand(["DTSTART;VALUE=DATE:20260105"])
        #expect(day.map { $0.end - $0.start } == [86_400])
        #expect(day.first?.writtenEnd.description == "20260106")
        #expect(try Self.expand(["DTSTART:20260105T100000Z"]).map { $0.end - $0.start } == [0])
        let text = Support.calendar([
            "BEGIN:VTODO", "UID:todo", "DTSTART:20260105T100000Z", "DUE:20260105T120000Z",
            "RRULE:FREQ=DAILY;COUNT=2", "END:VTODO",
            "BEGIN:VTODO", "UID:due-only", "DUE:20260110T170000Z", "END:VTODO",
        ])
        let todos = try Support.expander(text).allInstances(from: 0, to: Support.utc("20300101T000000Z"))
        #expect(todos.map { $0.end - $0.start } == [7200, 7200, 0])
        #expect(todos.map(\.componentName) == ["VTODO", "VTODO", "VTODO"])
        #expect(todos.last?.uid == "due-only")
    }

    @Test("two RRULEs give their union, each instance once, with a diagnostic")
    func twoRules() throws {
        let text = Support.calendar(
            Support.event([
                "DTSTART:20260105T100000Z", "RRULE:FREQ=WEEKLY;BYDAY=MO;COUNT=3",
                "RRULE:FREQ=WEEKLY;BYDAY=MO,WE;COUNT=3",
            ]))
        let e = try Support.expander(text)
        #expect(
            e.allInstances(from: 0, to: Support.utc("20300101T000000Z")).map(\.writtenStart.description)
                == ["20260105T100000Z", "20260107T100000Z", "20260112T100000Z", "20260119T100000Z"])
        #expect(e.diagnostics.map(\.kind) == [.multipleRules])
    }

    @Test("UNTIL is inclusive: a DATE for DATE series, floating for floating, UTC for zoned")
    func untilForms() throws {
        #expect(try Self.expand(["DTSTART;VALUE=DATE:20260105", "RRULE:FREQ=DAILY;UNTIL=20260107"]).count == 3)
        #expect(try Self.expand(["DTSTART:20260105T090000", "RRULE:FREQ=DAILY;UNTIL=20260107T090000"]).count == 3)
        #expect(
            try Self.expand(["DTSTART;TZID=Europe/Berlin:20260105T090000", "RRULE:FREQ=DAILY;UNTIL=20260107T080000Z"])
                .count == 3)
        #expect(
            try Self.expand(["DTSTART;TZID=Europe/Berlin:20260105T090000", "RRULE:FREQ=DAILY;UNTIL=20260107T075959Z"])
                .count == 2)
    }

    @Test("time parts are ignored for a DATE DTSTART")
    func dateIgnoresTimeParts() throws {
        let got = try Self.expand(["DTSTART;VALUE=DATE:20260105", "RRULE:FREQ=DAILY;BYHOUR=9,17;COUNT=3"])
        #expect(got.map(\.writtenStart.description) == ["20260105", "20260106", "20260107"])
    }

    @Test("an instance starting before the window but still running in it is listed; one ending at its start is not")
    func overlapRule() throws {
        let text = Support.calendar(
            Support.event(["DTSTART:20260105T230000Z", "DURATION:PT2H", "RRULE:FREQ=DAILY;COUNT=3"]))
        let e = try Support.expander(text)
        #expect(e.allInstances(from: Support.utc("20260106T000000Z"), to: Support.utc("20260106T010000Z")).count == 1)
        #expect(e.allInstances(from: Support.utc("20260106T010000Z"), to: Support.utc("20260106T230000Z")).isEmpty)
    }

    @Test("a whole document merges all series in start order")
    func documentMerge() throws {
        let text = Support.calendar(
            Support.event(["DTSTART:20260105T100000Z", "RRULE:FREQ=DAILY;COUNT=3"], uid: "a")
                + Support.event(["DTSTART:20260105T120000Z", "RRULE:FREQ=DAILY;COUNT=2"], uid: "b")
                + Support.event(["DTSTART:20260104T120000Z"], uid: "c"))
        let got = try Support.expander(text).allInstances(from: 0, to: Support.utc("20300101T000000Z"))
        #expect(
            got.map { "\($0.uid ?? "")@\($0.writtenStart)" } == [
                "c@20260104T120000Z", "a@20260105T100000Z", "b@20260105T120000Z", "a@20260106T100000Z",
                "b@20260106T120000Z", "a@20260107T100000Z",
            ])
    }
}
