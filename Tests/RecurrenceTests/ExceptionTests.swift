import CalendarModel
import Testing
@testable import Recurrence

/// What takes an instance out or names it twice: EXRULE (RFC 2445), an EXDATE beside an override
/// of the same instance, and one instance's overrides written in two zones or two forms.
struct ExceptionTests {
    static func expand(_ lines: [String], more: [String] = []) throws -> CalendarExpander {
        try Support.expander(Support.calendar(Support.event(lines) + more))
    }

    static func all(_ e: CalendarExpander) -> [RecurrenceInstance] {
        e.allInstances(from: Support.utc("19900101T000000Z"), to: Support.utc("20400101T000000Z"))
    }

    @Test("EXRULE takes out what it gives: RFC 2445 §4.8.5.2's 'every other week on Tuesday and Thursday for 4'")
    func exrule() throws {
        // Daily from Tuesday 2 September 1997 for 20 days, less the 2nd, 4th, 16th and 18th
        // (DTSTART is the EXRULE's first instance, as an RRULE's).
        let e = try Self.expand([
            "DTSTART;TZID=America/New_York:19970902T090000", "RRULE:FREQ=DAILY;COUNT=20",
            "EXRULE:FREQ=WEEKLY;COUNT=4;INTERVAL=2;BYDAY=TU,TH",
        ])
        let days = Self.all(e).map { Int($0.writtenStart.description.dropFirst(6).prefix(2))! }
        #expect(days == [3, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 17, 19, 20, 21])
        #expect(e.diagnostics.isEmpty, "\(e.diagnostics)")
        let series = try #require(e.series.first)
        #expect(series.excludes(recurrenceID: Support.utc("19970916T130000Z")))
        #expect(series.excludes(recurrenceID: Support.utc("19970902T130000Z")))
        #expect(!series.excludes(recurrenceID: Support.utc("19970917T130000Z")))
        // A window that starts after the excluded instances still leaves them out.
        let late = e.allInstances(from: Support.utc("19970916T000000Z"), to: Support.utc("19970919T000000Z"))
        #expect(late.map(\.writtenStart.description) == ["19970917T090000"])
    }

    @Test("an EXRULE that is not a rule is a diagnostic, and the series keeps its instances")
    func invalidExrule() throws {
        let e = try Self.expand([
            "DTSTART:20260105T090000Z", "RRULE:FREQ=DAILY;COUNT=2", "EXRULE:FREQ=SOMETIMES",
        ])
        #expect(Self.all(e).count == 2)
        #expect(e.diagnostics.contains { $0.message.contains("EXRULE") })
    }

    @Test("an override of an instance an EXDATE excludes is left out: EXDATE wins, with a diagnostic")
    func exdateWinsOverAnOverride() throws {
        let e = try Self.expand(
            ["DTSTART;TZID=Europe/Berlin:20260105T100000", "RRULE:FREQ=DAILY;COUNT=3", "EXDATE:20260106T090000Z"],
            more: Support.event([
                "RECURRENCE-ID;TZID=Europe/Berlin:20260106T100000", "DTSTART;TZID=Europe/Berlin:20260106T150000",
                "SUMMARY:Moved",
            ]))
        #expect(Self.all(e).map(\.writtenStart.description) == ["20260105T100000", "20260107T100000"])
        #expect(
            e.diagnostics.map(\.message) == [
                "an override of an instance the series excludes (EXDATE) was left out: EXDATE wins"
            ])
        #expect(e.diagnostics.first?.recurrenceID == "20260106T100000")
    }

    @Test("one instance's overrides written in two zones are one override: the later revision")
    func overridesInTwoZones() throws {
        let e = try Self.expand(
            ["DTSTART;TZID=Europe/Berlin:20260105T100000", "RRULE:FREQ=WEEKLY;COUNT=3", "SUMMARY:Weekly"],
            more: Support.event([
                "RECURRENCE-ID;TZID=Europe/Berlin:20260112T100000", "DTSTART;TZID=Europe/Berlin:20260112T110000",
                "SEQUENCE:2", "SUMMARY:Later revision",
            ])
                + Support.event([
                    "RECURRENCE-ID:20260112T090000Z", "DTSTART:20260112T120000Z", "SEQUENCE:1",
                    "SUMMARY:Earlier revision",
                ]))
        let got = Self.all(e)
        #expect(got.map(\.summary) == ["Weekly", "Later revision", "Weekly"])
        #expect(e.diagnostics.count == 1 && e.diagnostics[0].message.hasPrefix("two overrides of one instance"))
    }

    @Test("a DATE RECURRENCE-ID in a series of DATE-TIMEs names the instance of its day")
    func dateRecurrenceIDOfADateTimeSeries() throws {
        let e = try Self.expand(
            ["DTSTART;TZID=Europe/Berlin:20260105T100000", "RRULE:FREQ=WEEKLY;COUNT=3", "SUMMARY:Weekly"],
            more: Support.event([
                "RECURRENCE-ID;VALUE=DATE:20260112", "DTSTART;TZID=Europe/Berlin:20260112T150000", "SUMMARY:Moved",
            ]))
        let got = Self.all(e)
        #expect(got.map(\.writtenStart.description) == ["20260105T100000", "20260112T150000", "20260119T100000"])
        #expect(got[1].recurrenceID == Support.utc("20260112T090000Z"))
        #expect(e.diagnostics.map(\.message).first?.contains("matched to the instance of that day") == true)
    }
}

/// Outlook's `Customized Time Zone`: a TZID the calendar does not define, beside the one zone it
/// does define under another name.
struct CustomizedZoneTests {
    static let lines = [
        "BEGIN:VTIMEZONE", "TZID:(UTC+01:00) Amsterdam\\, Berlin\\, Bern\\, Rome\\, Stockholm\\, Vienna",
        "BEGIN:STANDARD", "DTSTART:16011028T030000", "RRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=10",
        "TZOFFSETFROM:+0200", "TZOFFSETTO:+0100", "END:STANDARD", "BEGIN:DAYLIGHT", "DTSTART:16010325T020000",
        "RRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=3", "TZOFFSETFROM:+0100", "TZOFFSETTO:+0200", "END:DAYLIGHT",
        "END:VTIMEZONE",
    ]

    @Test("a TZID no one knows is read in the calendar's only zone, and the diagnostic says so")
    func readInTheOnlyZone() throws {
        let text = Support.calendar(
            Self.lines
                + Support.event([
                    "DTSTART;TZID=Customized Time Zone:20260701T100000",
                    "DTEND;TZID=Customized Time Zone:20260701T110000",
                ]))
        let e = try Support.expander(text)
        let got = e.allInstances(from: Support.utc("20260101T000000Z"), to: Support.utc("20270101T000000Z"))
        #expect(got.map { Support.utcText($0.start) } == ["20260701T080000Z"])
        #expect(
            e.diagnostics.map(\.message) == [
                "TZID \"Customized Time Zone\" is not in the zone database, not a Windows zone name, and has no VTIMEZONE; its times were read in the calendar's only zone, \"(UTC+01:00) Amsterdam, Berlin, Bern, Rome, Stockholm, Vienna\""
            ])
        // The item carries that zone, so a reader of the item alone (the target) reads it alike.
        let item = try #require(ItemGrouper.items(from: try ICalParser().parse(text)).items.first)
        #expect(item.timezones.count == 1)
    }

    @Test("with two zones defined, which one is meant is not known: the times stay floating")
    func twoZonesAreAmbiguous() throws {
        let other = [
            "BEGIN:VTIMEZONE", "TZID:Other", "BEGIN:STANDARD", "DTSTART:19700101T000000",
            "TZOFFSETFROM:+0500", "TZOFFSETTO:+0500", "END:STANDARD", "END:VTIMEZONE",
        ]
        let text = Support.calendar(
            Self.lines + other + Support.event(["DTSTART;TZID=Customized Time Zone:20260701T100000"]))
        let e = try Support.expander(text)
        let got = e.allInstances(from: Support.utc("20260101T000000Z"), to: Support.utc("20270101T000000Z"))
        #expect(got.map { Support.utcText($0.start) } == ["20260701T100000Z"])
        #expect(e.diagnostics.first?.message.hasSuffix("its times were read as floating (UTC)") == true)
    }
}
