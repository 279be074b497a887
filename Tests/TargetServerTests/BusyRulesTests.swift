import CalendarModel
import Recurrence
@testable import TargetServer
import Testing

/// The free/busy rules of RFC 4791 §7.10, instance by instance, and where floating and DATE
/// times land: table tests on the pure `BusyRules`.
struct BusyRulesTests {
    struct Case: CustomTestStringConvertible, Sendable {
        var name: String
        /// The entity's components (and calendar properties) between VCALENDAR's lines.
        var lines: [String]
        var zone = "UTC"
        /// `start end status`, UTC.
        var expected: [String]
        var testDescription: String { name }
    }

    static func event(_ lines: [String], uid: String = "e@x") -> [String] {
        ["BEGIN:VEVENT", "UID:\(uid)", "DTSTAMP:20260101T000000Z"] + lines + ["END:VEVENT"]
    }

    /// UTC epoch seconds of `20260302T090000Z`.
    static func utc(_ text: String) -> Int64 {
        guard case .dateTime(let t)? = ICalValue.parse(text, as: .dateTime) else { return 0 }
        return RFC3339.seconds(
            year: Int(t.date.year), month: Int(t.date.month), day: Int(t.date.day),
            hour: Int(t.time.hour), minute: Int(t.time.minute), second: Int(t.time.second))
    }

    static func zone(_ name: String) throws -> ZoneRules {
        let resolver = ZoneResolver(timezones: [], calendarZone: name, options: ExpansionOptions())
        try #require(resolver.floatingFromCalendar, "a zone the system knows")
        return resolver.floating
    }

    static func busy(
        _ lines: [String], zone: String = "UTC", from: String = "20260101T000000Z",
        to: String = "20270101T000000Z"
    ) throws -> [String] {
        let text =
            (["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//t//EN"] + lines + ["END:VCALENDAR"]).joined(
                separator: "\r\n") + "\r\n"
        let calendar = try ICalParser().parse(text).calendars[0]
        let (start, end) = (utc(from), utc(to))
        let rules = try Self.zone(zone)
        let instances = BusyRules.instances(
            of: calendar, from: start - BusyRules.floatingSlack, to: end + BusyRules.floatingSlack)
        return BusyRules.periods(instances, in: rules, from: start, to: end).sorted { $0.start < $1.start }
            .map { "\(RFC3339.utc($0.start)) \(RFC3339.utc($0.end)) \($0.status.rawValue)" }
    }

    static let cases: [Case] = [
        Case(
            name: "a cancelled override of a busy series is free; the other instances stay busy",
            lines: event(["DTSTART:20260302T090000Z", "DTEND:20260302T100000Z", "RRULE:FREQ=DAILY;COUNT=3"])
                + event([
                    "RECURRENCE-ID:20260303T090000Z", "DTSTART:20260303T090000Z", "DTEND:20260303T100000Z",
                    "STATUS:CANCELLED",
                ]),
            expected: [
                "2026-03-02T09:00:00Z 2026-03-02T10:00:00Z busy", "2026-03-04T09:00:00Z 2026-03-04T10:00:00Z busy",
            ]),
        Case(
            name: "a transparent master is free, its opaque override busy (moved, and deciding for itself)",
            lines: event([
                "DTSTART:20260302T090000Z", "DTEND:20260302T100000Z", "RRULE:FREQ=DAILY;COUNT=3", "TRANSP:TRANSPARENT",
            ])
                + event([
                    "RECURRENCE-ID:20260303T090000Z", "DTSTART:20260303T110000Z", "DTEND:20260303T120000Z",
                    "TRANSP:OPAQUE",
                ]),
            expected: ["2026-03-03T11:00:00Z 2026-03-03T12:00:00Z busy"]),
        Case(
            name: "an override without TRANSP is opaque: it does not inherit the master's TRANSPARENT",
            lines: event([
                "DTSTART:20260302T090000Z", "DTEND:20260302T100000Z", "RRULE:FREQ=DAILY;COUNT=2", "TRANSP:TRANSPARENT",
            ])
                + event(["RECURRENCE-ID:20260303T090000Z", "DTSTART:20260303T090000Z", "DTEND:20260303T100000Z"]),
            expected: ["2026-03-03T09:00:00Z 2026-03-03T10:00:00Z busy"]),
        Case(
            name: "STATUS:TENTATIVE is tentative; a CONFIRMED override of it is busy",
            lines: event([
                "DTSTART:20260302T090000Z", "DTEND:20260302T100000Z", "RRULE:FREQ=DAILY;COUNT=2", "STATUS:TENTATIVE",
            ])
                + event([
                    "RECURRENCE-ID:20260303T090000Z", "DTSTART:20260303T090000Z", "DTEND:20260303T100000Z",
                    "STATUS:CONFIRMED",
                ]),
            expected: [
                "2026-03-02T09:00:00Z 2026-03-02T10:00:00Z tentative", "2026-03-03T09:00:00Z 2026-03-03T10:00:00Z busy",
            ]),
        Case(
            name: "TRANSP:TRANSPARENT is free even when TENTATIVE",
            lines: event([
                "DTSTART:20260302T090000Z", "DTEND:20260302T100000Z", "STATUS:TENTATIVE", "TRANSP:TRANSPARENT",
            ]),
            expected: []),
        Case(
            name: "a zero-length instance is free (a DATE-TIME start without an end)",
            lines: event(["DTSTART:20260302T090000Z"]),
            expected: []),
        Case(
            name: "VTODO never counts",
            lines: [
                "BEGIN:VTODO", "UID:t@x", "DTSTAMP:20260101T000000Z", "DTSTART:20260302T090000Z",
                "DUE:20260302T100000Z", "END:VTODO",
            ],
            expected: []),
        Case(
            name: "VJOURNAL never counts",
            lines: [
                "BEGIN:VJOURNAL", "UID:j@x", "DTSTAMP:20260101T000000Z", "DTSTART:20260302T090000Z", "END:VJOURNAL",
            ],
            expected: []),
        Case(
            name: "a DATE event is its day in the query's zone",
            lines: event(["DTSTART;VALUE=DATE:20260302"]), zone: "America/New_York",
            expected: ["2026-03-02T05:00:00Z 2026-03-03T05:00:00Z busy"]),
        Case(
            name: "a DATE event is its day in the calendar's X-WR-TIMEZONE, whatever the query's zone",
            lines: ["X-WR-TIMEZONE:Asia/Tokyo"] + event(["DTSTART;VALUE=DATE:20260302"]), zone: "America/New_York",
            expected: ["2026-03-01T15:00:00Z 2026-03-02T15:00:00Z busy"]),
        Case(
            name: "an X-WR-TIMEZONE nobody knows leaves the query's zone",
            lines: ["X-WR-TIMEZONE:Nowhere/Atlantis"] + event(["DTSTART;VALUE=DATE:20260302"]), zone: "Europe/Berlin",
            expected: ["2026-03-01T23:00:00Z 2026-03-02T23:00:00Z busy"]),
        Case(
            name: "a DATE event on the day summer time starts lasts 23 hours",
            lines: event(["DTSTART;VALUE=DATE:20260329", "DTEND;VALUE=DATE:20260330"]), zone: "Europe/Berlin",
            expected: ["2026-03-28T23:00:00Z 2026-03-29T22:00:00Z busy"]),
        Case(
            name: "a floating daily event keeps its wall-clock hour across the change to summer time",
            lines: event(["DTSTART:20260307T090000", "DTEND:20260307T100000", "RRULE:FREQ=DAILY;COUNT=2"]),
            zone: "America/New_York",
            expected: [
                "2026-03-07T14:00:00Z 2026-03-07T15:00:00Z busy", "2026-03-08T13:00:00Z 2026-03-08T14:00:00Z busy",
            ]),
        Case(
            name: "a zoned event keeps its zone's hour across DST, whatever the query's zone",
            lines: event([
                "DTSTART;TZID=Europe/Berlin:20260328T090000", "DTEND;TZID=Europe/Berlin:20260328T100000",
                "RRULE:FREQ=DAILY;COUNT=2",
            ]),
            zone: "America/New_York",
            expected: [
                "2026-03-28T08:00:00Z 2026-03-28T09:00:00Z busy", "2026-03-29T07:00:00Z 2026-03-29T08:00:00Z busy",
            ]),
        Case(
            name: "a floating time inside the spring-forward gap is moved forward by the gap (RFC 5545 §3.3.5)",
            lines: event(["DTSTART:20260308T020000", "DTEND:20260308T023000"]), zone: "America/New_York",
            expected: ["2026-03-08T07:00:00Z 2026-03-08T07:30:00Z busy"]),
        Case(
            name: "a floating hour that the spring-forward gap skips whole has no length, so it is free",
            lines: event(["DTSTART:20260308T020000", "DTEND:20260308T030000"]), zone: "America/New_York",
            expected: []),
        Case(
            name: "a TZID nobody knows is read as floating, so it is placed in the query's zone",
            lines: event(["DTSTART;TZID=Mars/Olympus:20260302T090000", "DTEND;TZID=Mars/Olympus:20260302T100000"]),
            zone: "Europe/Berlin",
            expected: ["2026-03-02T08:00:00Z 2026-03-02T09:00:00Z busy"]),
    ]

    @Test(arguments: cases)
    func busyRules(_ c: Case) throws {
        #expect(try Self.busy(c.lines, zone: c.zone) == c.expected)
    }

    @Test func aFloatingInstanceIsFoundNearTheEdgeOfTheWindow() throws {
        // 23:30 floating on 1 March is 22:30Z in Berlin: inside a window that ends at 23:00Z.
        let lines = Self.event(["DTSTART:20260301T233000", "DTEND:20260302T003000"])
        #expect(
            try Self.busy(lines, zone: "Europe/Berlin", from: "20260301T220000Z", to: "20260301T230000Z")
                == ["2026-03-01T22:30:00Z 2026-03-01T23:30:00Z busy"])
        #expect(
            try Self.busy(lines, zone: "America/New_York", from: "20260301T220000Z", to: "20260301T230000Z").isEmpty)
    }
}
