import CalendarModel
import Recurrence
import Testing

/// A series split "this and following": the overrides and RDATEs past the end its rules now have
/// go; those within it, and every part of a series whose rules do not end, stay.
@Suite struct SeriesEndTests {
    struct Row: Sendable, CustomTestStringConvertible {
        var name: String
        var rule: String
        var rdate: String?
        var overrides: [String]
        /// The RECURRENCE-IDs kept, and the RDATE values kept.
        var keptOverrides: [String]
        var keptRDates: [String]
        var testDescription: String { name }
    }

    static let rows: [Row] = [
        Row(
            name: "UNTIL: the override after it goes, the one before stays", rule: "FREQ=WEEKLY;UNTIL=20260315T090000Z",
            overrides: ["20260308T090000Z", "20260329T090000Z"], keptOverrides: ["20260308T090000Z"], keptRDates: []),
        Row(
            name: "COUNT: the end is the last counted instance", rule: "FREQ=WEEKLY;COUNT=3",
            rdate: "20260310T090000Z,20260401T090000Z", overrides: ["20260315T090000Z", "20260322T090000Z"],
            keptOverrides: ["20260315T090000Z"], keptRDates: ["20260310T090000Z"]),
        Row(
            name: "a rule without an end keeps everything", rule: "FREQ=WEEKLY",
            rdate: "20300101T090000Z", overrides: ["20290101T090000Z"], keptOverrides: ["20290101T090000Z"],
            keptRDates: ["20300101T090000Z"]),
        Row(
            name: "the last instance itself stays", rule: "FREQ=DAILY;UNTIL=20260303T090000Z",
            overrides: ["20260303T090000Z"], keptOverrides: ["20260303T090000Z"], keptRDates: []),
    ]

    @Test(arguments: rows)
    func trimmed(_ row: Row) throws {
        var lines = [
            "BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//t//EN", "BEGIN:VEVENT", "UID:s@x",
            "DTSTAMP:20260101T000000Z", "DTSTART:20260301T090000Z", "DURATION:PT1H", "RRULE:\(row.rule)",
        ]
        if let rdate = row.rdate { lines.append("RDATE:\(rdate)") }
        lines.append("END:VEVENT")
        for o in row.overrides {
            lines += [
                "BEGIN:VEVENT", "UID:s@x", "DTSTAMP:20260101T000000Z", "RECURRENCE-ID:\(o)", "DTSTART:\(o)",
                "DURATION:PT2H", "END:VEVENT",
            ]
        }
        lines.append("END:VCALENDAR")
        let calendar = try ICalParser().parse(lines.joined(separator: "\r\n") + "\r\n").calendars[0]
        let zones = ZoneResolver(timezones: [], calendarZone: nil, options: ExpansionOptions())
        let (kept, removed) = SeriesEnd.trimmed(calendar.components, zones: zones)
        let keptOverrides = kept.compactMap { $0.recurrenceID?.value.map(ValueFormatter.icalString) }
        let keptRDates = kept.flatMap { $0.properties.filter { $0.name == "RDATE" }.flatMap(\.values) }
            .map(ValueFormatter.icalString)
        #expect(keptOverrides == row.keptOverrides)
        #expect(keptRDates == row.keptRDates)
        let before = row.overrides.count + (row.rdate?.split(separator: ",").count ?? 0)
        #expect(removed == before - keptOverrides.count - keptRDates.count)
    }
}
