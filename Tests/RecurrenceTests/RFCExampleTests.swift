import Testing
@testable import Recurrence

/// One example of RFC 5545 §3.8.5.3: DTSTART (in America/New_York), the rule lines, and the
/// first instances it lists (all of them when the example is bounded).
struct RFCExample: Sendable, CustomStringConvertible {
    var name: String
    var dtstart: String
    var lines: [String]
    var expected: [String]
    /// Whether `expected` is every instance (the rule is bounded) or only the first ones.
    var complete: Bool

    var description: String { name }
}

struct RFCExampleTests {
    static let examples: [RFCExample] = [
        RFCExample(
            name: "Daily for 10 occurrences", dtstart: "19970902T090000", lines: ["RRULE:FREQ=DAILY;COUNT=10"],
            expected: (2...11).map { "199709\(pad($0))T090000" }, complete: true),
        RFCExample(
            name: "Every other day - forever", dtstart: "19970902T090000", lines: ["RRULE:FREQ=DAILY;INTERVAL=2"],
            expected: ["19970902T090000", "19970904T090000", "19970906T090000", "19970908T090000"], complete: false),
        RFCExample(
            name: "Every 10 days, 5 occurrences", dtstart: "19970902T090000",
            lines: ["RRULE:FREQ=DAILY;INTERVAL=10;COUNT=5"],
            expected: ["19970902T090000", "19970912T090000", "19970922T090000", "19971002T090000", "19971012T090000"],
            complete: true),
        RFCExample(
            name: "Weekly for 10 occurrences", dtstart: "19970902T090000", lines: ["RRULE:FREQ=WEEKLY;COUNT=10"],
            expected: [
                "19970902", "19970909", "19970916", "19970923", "19970930", "19971007", "19971014", "19971021",
                "19971028", "19971104",
            ].map { $0 + "T090000" }, complete: true),
        RFCExample(
            name: "Every other week - forever", dtstart: "19970902T090000",
            lines: ["RRULE:FREQ=WEEKLY;INTERVAL=2;WKST=SU"],
            expected: ["19970902", "19970916", "19970930", "19971014", "19971028", "19971111"].map { $0 + "T090000" },
            complete: false),
        RFCExample(
            name: "Weekly on Tuesday and Thursday for five weeks", dtstart: "19970902T090000",
            lines: ["RRULE:FREQ=WEEKLY;UNTIL=19971007T000000Z;WKST=SU;BYDAY=TU,TH"],
            expected: [
                "19970902", "19970904", "19970909", "19970911", "19970916", "19970918", "19970923", "19970925",
                "19970930", "19971002",
            ].map { $0 + "T090000" }, complete: true),
        RFCExample(
            name: "Every other week on Tuesday and Thursday, for 8 occurrences", dtstart: "19970902T090000",
            lines: ["RRULE:FREQ=WEEKLY;INTERVAL=2;COUNT=8;WKST=SU;BYDAY=TU,TH"],
            expected: ["19970902", "19970904", "19970916", "19970918", "19970930", "19971002", "19971014", "19971016"]
                .map { $0 + "T090000" }, complete: true),
        RFCExample(
            name: "Monthly on the first Friday for 10 occurrences", dtstart: "19970905T090000",
            lines: ["RRULE:FREQ=MONTHLY;COUNT=10;BYDAY=1FR"],
            expected: [
                "19970905", "19971003", "19971107", "19971205", "19980102", "19980206", "19980306", "19980403",
                "19980501", "19980605",
            ].map { $0 + "T090000" }, complete: true),
        RFCExample(
            name: "Every other month on the first and last Sunday, 10 occurrences", dtstart: "19970907T090000",
            lines: ["RRULE:FREQ=MONTHLY;INTERVAL=2;COUNT=10;BYDAY=1SU,-1SU"],
            expected: [
                "19970907", "19970928", "19971102", "19971130", "19980104", "19980125", "19980301", "19980329",
                "19980503", "19980531",
            ].map { $0 + "T090000" }, complete: true),
        RFCExample(
            name: "Monthly on the third-to-the-last day - forever", dtstart: "19970928T090000",
            lines: ["RRULE:FREQ=MONTHLY;BYMONTHDAY=-3"],
            expected: ["19970928", "19971029", "19971128", "19971229", "19980129", "19980226"].map { $0 + "T090000" },
            complete: false),
        RFCExample(
            name: "Every 20th Monday of the year, forever", dtstart: "19970519T090000",
            lines: ["RRULE:FREQ=YEARLY;BYDAY=20MO"],
            expected: ["19970519T090000", "19980518T090000", "19990517T090000"], complete: false),
        RFCExample(
            name: "Every Friday the 13th, forever (DTSTART excluded by EXDATE)", dtstart: "19970902T090000",
            lines: ["EXDATE;TZID=America/New_York:19970902T090000", "RRULE:FREQ=MONTHLY;BYDAY=FR;BYMONTHDAY=13"],
            expected: ["19980213", "19980313", "19981113", "19990813", "20001013"].map { $0 + "T090000" },
            complete: false),
        RFCExample(
            name: "Every four years, the first Tuesday after a Monday in November", dtstart: "19961105T090000",
            lines: ["RRULE:FREQ=YEARLY;INTERVAL=4;BYMONTH=11;BYDAY=TU;BYMONTHDAY=2,3,4,5,6,7,8"],
            expected: ["19961105T090000", "20001107T090000", "20041102T090000"], complete: false),
        RFCExample(
            name: "The third instance of Tuesday, Wednesday or Thursday, for 3 months", dtstart: "19970904T090000",
            lines: ["RRULE:FREQ=MONTHLY;COUNT=3;BYDAY=TU,WE,TH;BYSETPOS=3"],
            expected: ["19970904T090000", "19971007T090000", "19971106T090000"], complete: true),
        RFCExample(
            name: "The second-to-last weekday of the month", dtstart: "19970929T090000",
            lines: ["RRULE:FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-2"],
            expected: ["19970929", "19971030", "19971127", "19971230", "19980129", "19980226", "19980330"]
                .map { $0 + "T090000" }, complete: false),
        RFCExample(
            name: "Every 15 minutes for 6 occurrences", dtstart: "19970902T090000",
            lines: ["RRULE:FREQ=MINUTELY;INTERVAL=15;COUNT=6"],
            expected: ["090000", "091500", "093000", "094500", "100000", "101500"].map { "19970902T" + $0 },
            complete: true),
        RFCExample(
            name: "Every hour and a half for 4 occurrences", dtstart: "19970902T090000",
            lines: ["RRULE:FREQ=MINUTELY;INTERVAL=90;COUNT=4"],
            expected: ["090000", "103000", "120000", "133000"].map { "19970902T" + $0 }, complete: true),
        RFCExample(
            name: "Every 20 minutes from 9:00 to 16:40 every day", dtstart: "19970902T090000",
            lines: ["RRULE:FREQ=DAILY;BYHOUR=9,10,11,12,13,14,15,16;BYMINUTE=0,20,40"],
            expected: (9...16).flatMap { h in ["00", "20", "40"].map { "19970902T\(pad(h))\($0)00" } } + [
                "19970903T090000"
            ],
            complete: false),
        RFCExample(
            name: "WKST=MO: every other week on Tuesday and Sunday", dtstart: "19970805T090000",
            lines: ["RRULE:FREQ=WEEKLY;INTERVAL=2;COUNT=4;BYDAY=TU,SU;WKST=MO"],
            expected: ["19970805T090000", "19970810T090000", "19970819T090000", "19970824T090000"], complete: true),
        RFCExample(
            name: "WKST=SU: every other week on Tuesday and Sunday", dtstart: "19970805T090000",
            lines: ["RRULE:FREQ=WEEKLY;INTERVAL=2;COUNT=4;BYDAY=TU,SU;WKST=SU"],
            expected: ["19970805T090000", "19970817T090000", "19970819T090000", "19970831T090000"], complete: true),
        RFCExample(
            name: "Invalid dates (Feb 30) are skipped, not clamped", dtstart: "20070115T090000",
            lines: ["RRULE:FREQ=MONTHLY;BYMONTHDAY=15,30;COUNT=5"],
            expected: ["20070115T090000", "20070130T090000", "20070215T090000", "20070315T090000", "20070330T090000"],
            complete: true),
        // RFC 5545 lists 09:00, 12:00 and 15:00 EDT here, but 15:00 EDT is 19:00Z, after
        // UNTIL=17:00Z: the example contradicts the rule text, and the rule text wins.
        RFCExample(
            name: "Every 3 hours from 9:00 until 17:00Z (the RFC's list has one too many)", dtstart: "19970902T090000",
            lines: ["RRULE:FREQ=HOURLY;INTERVAL=3;UNTIL=19970902T170000Z"],
            expected: ["19970902T090000", "19970902T120000"], complete: true),
    ]

    static func pad(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }

    static func calendar(_ e: RFCExample) -> String {
        Support.calendar(Support.event(["DTSTART;TZID=America/New_York:\(e.dtstart)"] + e.lines))
    }

    @Test("RFC 5545 §3.8.5.3 examples give the instances the RFC lists", arguments: examples)
    func example(_ e: RFCExample) throws {
        let got = try Support.starts(Self.calendar(e), limit: e.complete ? .max : e.expected.count)
        #expect(got == e.expected)
    }

    @Test("daily until December 24, 1997 has 113 instances and follows New York's DST change")
    func dailyUntilChristmas() throws {
        let text = Support.calendar(
            Support.event([
                "DTSTART;TZID=America/New_York:19970902T090000",
                "RRULE:FREQ=DAILY;UNTIL=19971224T000000Z",
            ]))
        let all = try Support.expander(text).allInstances(
            from: Support.utc("19970101T000000Z"), to: Support.utc("19990101T000000Z"))
        #expect(all.count == 113)
        #expect(all.last?.writtenStart.description == "19971223T090000")
        #expect(Support.utcText(all[0].start) == "19970902T130000Z")  // EDT
        #expect(Support.utcText(all[60].start) == "19971101T140000Z")  // EST after Oct 26
        #expect(all.allSatisfy { $0.tzid == "America/New_York" })
    }

    @Test("every day in January for 3 years, written two ways, gives the same 93 instances")
    func januaryTwoWays() throws {
        let a = Support.calendar(
            Support.event([
                "DTSTART;TZID=America/New_York:19980101T090000",
                "RRULE:FREQ=YEARLY;UNTIL=20000131T140000Z;BYMONTH=1;BYDAY=SU,MO,TU,WE,TH,FR,SA",
            ]))
        let b = Support.calendar(
            Support.event([
                "DTSTART;TZID=America/New_York:19980101T090000",
                "RRULE:FREQ=DAILY;UNTIL=20000131T140000Z;BYMONTH=1",
            ]))
        let first = try Support.starts(a)
        #expect(first.count == 93)
        #expect(first == (try Support.starts(b)))
        #expect(first.last == "20000131T090000")
    }

    @Test("every other week on Monday, Wednesday and Friday until December 24, 1997 has 25 instances")
    func everyOtherWeekMWF() throws {
        let text = Support.calendar(
            Support.event([
                "DTSTART;TZID=America/New_York:19970901T090000",
                "RRULE:FREQ=WEEKLY;INTERVAL=2;UNTIL=19971224T000000Z;WKST=SU;BYDAY=MO,WE,FR",
            ]))
        let got = try Support.starts(text)
        #expect(got.count == 25)
        #expect(
            Array(got.prefix(7))
                == ["19970901", "19970903", "19970905", "19970915", "19970917", "19970919", "19970929"]
                .map { $0 + "T090000" })
        #expect(got.last == "19971222T090000")
    }
}
