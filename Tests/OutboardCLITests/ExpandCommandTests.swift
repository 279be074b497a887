import CalendarModel
@testable import FileCommands
import Foundation
@testable import OutboardCLI
import Recurrence
import Testing

@Suite struct ExpandCommandTests {
    static let calendar =
        [
            "BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//t//EN",
            "BEGIN:VEVENT", "UID:series@x", "DTSTART;TZID=Europe/Berlin:20260105T090000",
            "DTEND;TZID=Europe/Berlin:20260105T100000",
            "RRULE:FREQ=WEEKLY;COUNT=4", "SUMMARY:Training\\, weekly", "END:VEVENT",
            "BEGIN:VEVENT", "UID:series@x", "RECURRENCE-ID;TZID=Europe/Berlin:20260112T090000",
            "DTSTART;TZID=Europe/Berlin:20260112T110000",
            "DTEND;TZID=Europe/Berlin:20260112T120000", "SUMMARY:Training (moved)", "STATUS:CANCELLED", "END:VEVENT",
            "BEGIN:VEVENT", "UID:allday@x", "DTSTART;VALUE=DATE:20260105", "SUMMARY:Holiday", "TRANSP:TRANSPARENT",
            "END:VEVENT",
            "BEGIN:VEVENT", "UID:float@x", "DTSTART:20260106T080000", "DURATION:PT1H", "SUMMARY:Floating", "END:VEVENT",
            "BEGIN:VEVENT", "UID:win@x", "DTSTART;TZID=W. Europe Standard Time:20260107T080000",
            "DTEND;TZID=W. Europe Standard Time:20260107T083000", "SUMMARY:Windows zone", "END:VEVENT",
            "END:VCALENDAR",
        ].joined(separator: "\r\n") + "\r\n"

    @Test func everyInstanceInTheWindowInStartOrderWithItsZoneAndInstant() async throws {
        let file = try temporaryFile("cal.ics", Self.calendar)
        let r = await outboard("ics", "expand", file, "--from", "2026-01-05T08:30:00Z", "--to", "2026-01-20")
        #expect(r.code == 0, "\(r.err)")
        #expect(r.err.isEmpty)
        #expect(
            r.out.split(separator: "\n").map(String.init) == [
                #"{"component":"VEVENT","uid":"allday@x","start":"2026-01-05","end":"2026-01-06","all-day":true,"transp":"TRANSPARENT","summary":"Holiday"}"#,
                #"{"component":"VEVENT","uid":"series@x","recurrence-id":"20260105T090000","start":"2026-01-05T09:00:00+01:00","start-tzid":"Europe/Berlin","start-utc":"2026-01-05T08:00:00Z","end":"2026-01-05T10:00:00+01:00","end-tzid":"Europe/Berlin","end-utc":"2026-01-05T09:00:00Z","summary":"Training, weekly"}"#,
                #"{"component":"VEVENT","uid":"float@x","start":"2026-01-06T08:00:00","end":"2026-01-06T09:00:00","summary":"Floating"}"#,
                #"{"component":"VEVENT","uid":"win@x","start":"2026-01-07T08:00:00+01:00","start-tzid":"W. Europe Standard Time","start-utc":"2026-01-07T07:00:00Z","end":"2026-01-07T08:30:00+01:00","end-tzid":"W. Europe Standard Time","end-utc":"2026-01-07T07:30:00Z","summary":"Windows zone"}"#,
                #"{"component":"VEVENT","uid":"series@x","recurrence-id":"20260112T090000","start":"2026-01-12T11:00:00+01:00","start-tzid":"Europe/Berlin","start-utc":"2026-01-12T10:00:00Z","end":"2026-01-12T12:00:00+01:00","end-tzid":"Europe/Berlin","end-utc":"2026-01-12T11:00:00Z","override":true,"status":"CANCELLED","summary":"Training (moved)"}"#,
                #"{"component":"VEVENT","uid":"series@x","recurrence-id":"20260119T090000","start":"2026-01-19T09:00:00+01:00","start-tzid":"Europe/Berlin","start-utc":"2026-01-19T08:00:00Z","end":"2026-01-19T10:00:00+01:00","end-tzid":"Europe/Berlin","end-utc":"2026-01-19T09:00:00Z","summary":"Training, weekly"}"#,
            ])
    }

    /// 100 daily series of 20 instances in four zones (one unknown), starting at two times: 2,000
    /// lines in January 2026, many at one start.
    static let longCalendar: String = {
        var lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//t//EN"]
        for i in 0..<100 {
            let tzid = ["Europe/Berlin", "America/New_York", "Asia/Kolkata", "Unknown/Zone"][i % 4]
            lines += [
                "BEGIN:VEVENT", "UID:series-\(i)@x", "DTSTART;TZID=\(tzid):20260105T0\(8 + i % 2)0000",
                "DURATION:PT1H", "RRULE:FREQ=DAILY;COUNT=20", "SUMMARY:Series \(i) of a calendar long enough",
                "END:VEVENT",
            ]
        }
        return (lines + ["END:VCALENDAR"]).joined(separator: "\r\n") + "\r\n"
    }()

    /// The command reads and expands on two threads (each half of the series) and makes its
    /// lines in pieces on every core: its output is byte for byte that of one writer over one
    /// iterator, ties between the halves' series included, over several pieces.
    @Test func linesMadeOnTwoThreadsAreThoseOfOneThread() async throws {
        let text = Self.longCalendar
        let file = try temporaryFile("cal.ics", text)
        let r = await outboard("ics", "expand", file, "--from", "2026-01-01", "--to", "2026-02-01")

        let document = try ICalParser().parse(text)
        let expander = CalendarExpander(document: document)
        var writer = InstanceWriter(document: document, floatingPlaced: false)
        var out = OutputBytes(capacity: 1)
        let iterator = expander.instances(
            from: RFC3339.seconds(year: 2026, month: 1, day: 1), to: RFC3339.seconds(year: 2026, month: 2, day: 1))
        writer.append(IteratorSequence(iterator), to: &out)
        let expected = out.withBytes { Array($0) }
        #expect(r.code == 1)  // the unknown zone
        #expect(r.err.contains("Unknown/Zone") && r.err.split(separator: "\n").count == 1, "\(r.err)")
        #expect(r.out.split(separator: "\n").count == 2000)
        #expect(r.out.split(separator: "\n").count > 4 * ExpandCommand.linesPerPiece)
        #expect(r.out == String(decoding: expected, as: UTF8.self))
    }

    /// Offsets west of UTC and not whole hours, UTC values, and years of fewer than four digits.
    @Test func timesAreWrittenWithEveryOffsetAndYear() async throws {
        let text =
            [
                "BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//t//EN",
                "BEGIN:VEVENT", "UID:west@x", "DTSTART;TZID=America/St_Johns:20260105T090000", "DURATION:PT1H30M",
                "RRULE:FREQ=DAILY;COUNT=2", "END:VEVENT",
                "BEGIN:VEVENT", "UID:utc@x", "DTSTART:20260105T230000Z", "DTEND:20260106T010000Z", "END:VEVENT",
                "BEGIN:VEVENT", "UID:old@x", "DTSTART;VALUE=DATE:09991231", "END:VEVENT",
                "END:VCALENDAR",
            ].joined(separator: "\r\n") + "\r\n"
        let file = try temporaryFile("cal.ics", text)
        let r = await outboard("ics", "expand", file, "--from", "2026-01-05", "--to", "2026-01-07")
        #expect(r.code == 0, "\(r.err)")
        #expect(
            r.out.split(separator: "\n").map(String.init) == [
                #"{"component":"VEVENT","uid":"west@x","recurrence-id":"20260105T090000","start":"2026-01-05T09:00:00-03:30","start-tzid":"America/St_Johns","start-utc":"2026-01-05T12:30:00Z","end":"2026-01-05T10:30:00-03:30","end-tzid":"America/St_Johns","end-utc":"2026-01-05T14:00:00Z"}"#,
                #"{"component":"VEVENT","uid":"utc@x","start":"2026-01-05T23:00:00Z","start-utc":"2026-01-05T23:00:00Z","end":"2026-01-06T01:00:00Z","end-utc":"2026-01-06T01:00:00Z"}"#,
                #"{"component":"VEVENT","uid":"west@x","recurrence-id":"20260106T090000","start":"2026-01-06T09:00:00-03:30","start-tzid":"America/St_Johns","start-utc":"2026-01-06T12:30:00Z","end":"2026-01-06T10:30:00-03:30","end-tzid":"America/St_Johns","end-utc":"2026-01-06T14:00:00Z"}"#,
            ])
        let old = await outboard("ics", "expand", file, "--from", "0999-12-31", "--to", "1000-01-02")
        #expect(
            old.out
                == #"{"component":"VEVENT","uid":"old@x","start":"0999-12-31","end":"1000-01-01","all-day":true}"#
                + "\n")
    }

    @Test func floatingAndDateValuesArePlacedInTheGivenZone() async throws {
        let file = try temporaryFile("cal.ics", Self.calendar)
        let r = await outboard(
            "ics", "expand", file, "--from", "2026-01-06", "--to", "2026-01-07", "--zone", "America/New_York")
        #expect(r.code == 0, "\(r.err)")
        #expect(
            r.out
                == #"{"component":"VEVENT","uid":"float@x","start":"2026-01-06T08:00:00","start-utc":"2026-01-06T13:00:00Z","end":"2026-01-06T09:00:00","end-utc":"2026-01-06T14:00:00Z","summary":"Floating"}"#
                + "\n")
    }

    @Test func anUnknownZoneIsAProblemNamingTheTZIDAndItsTimesAreFloating() async throws {
        let text = Self.calendar.replacingOccurrences(of: "W. Europe Standard Time", with: "Mars/Olympus")
        let file = try temporaryFile("cal.ics", text)
        let r = await outboard("ics", "expand", file, "--from", "2026-01-07", "--to", "2026-01-08")
        #expect(r.code == 1)
        #expect(
            r.out
                == #"{"component":"VEVENT","uid":"win@x","start":"2026-01-07T08:00:00","start-tzid":"Mars/Olympus","end":"2026-01-07T08:30:00","end-tzid":"Mars/Olympus","summary":"Windows zone"}"#
                + "\n")
        #expect(r.err.contains("TZID \"Mars/Olympus\""), "\(r.err)")
        #expect(r.err.hasPrefix(file + ":"), "\(r.err)")
    }

    @Test(arguments: [
        ["--from", "yesterday"], ["--zone", "Mars/Olympus"], ["--from", "2026-02-01", "--to", "2026-01-01"],
    ])
    func badUsageExitsTwo(args: [String]) async throws {
        let file = try temporaryFile("cal.ics", Self.calendar)
        let r = await outboard(arguments: ["ics", "expand", file] + args)
        #expect(r.code == 2, "\(r)")
    }

    /// The usual --from/--to shapes are read without Foundation's formatters; they must give what
    /// the formatters give, and leave every other shape (or an impossible date) to them.
    @Test(arguments: [
        "2026-01-05T09:00:00Z", "2026-01-05T09:00:00+01:00", "2026-01-05T09:00:00-05:30", "1999-12-31T23:59:59Z",
        "2024-02-29T00:00:00+14:00", "2026-03-29T02:30:00+02:00",
    ])
    func plainDateTimesAreReadAsTheFormatterReadsThem(text: String) throws {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        let expected = try #require(formatter.date(from: text)).timeIntervalSince1970
        #expect(WhenArgument.plainInstant(text, zone: nil) == Int64(expected))
        #expect(WhenArgument.instant(text, zone: "Asia/Tokyo") == Int64(expected))
    }

    @Test func plainDatesAreMidnightUTCAndTheRestIsLeftToFoundation() {
        #expect(WhenArgument.plainInstant("2026-01-05", zone: nil) == 1_767_571_200)
        #expect(WhenArgument.plainInstant("2026-01-05", zone: "America/New_York") == nil)
        #expect(WhenArgument.instant("2026-01-05", zone: "America/New_York") == 1_767_589_200)
        for other in [
            "2026-02-30", "2025-02-29T00:00:00Z", "2026-01-05T24:00:00Z", "2026-01-05t09:00:00z",
            "2026-01-05T09:00:00.250Z", "2026-1-5", "yesterday",
        ] {
            #expect(WhenArgument.plainInstant(other, zone: nil) == nil, "\(other)")
        }
        #expect(WhenArgument.instant("2026-01-05T09:00:00.250Z", zone: nil) == 1_767_603_600)
    }
}
