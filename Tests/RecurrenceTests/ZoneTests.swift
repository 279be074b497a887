import CalendarModel
import Foundation
import SafeXML
import Testing
@testable import Recurrence

/// DST gaps and overlaps, tzdata by IANA name, alias and Windows name, embedded VTIMEZONEs, and
/// what unknown zones do.
struct ZoneTests {
    struct LocalCase: Sendable, CustomStringConvertible {
        var tzid: String
        var local: String
        var utc: String
        var why: String
        var description: String { "\(tzid) \(local): \(why)" }
    }

    /// Wall-clock times and the instants RFC 5545 §3.3.5 gives them: a time in a gap moves
    /// forward by the gap, a repeated time is its first occurrence.
    static let cases: [LocalCase] = [
        LocalCase(
            tzid: "Europe/Berlin", local: "20260329T023000", utc: "20260329T013000Z",
            why: "spring gap, read as 03:30 CEST"),
        LocalCase(tzid: "Europe/Berlin", local: "20260329T013000", utc: "20260329T003000Z", why: "before the gap, CET"),
        LocalCase(
            tzid: "Europe/Berlin", local: "20260329T030000", utc: "20260329T010000Z", why: "end of the gap, CEST"),
        LocalCase(
            tzid: "Europe/Berlin", local: "20261025T023000", utc: "20261025T003000Z",
            why: "autumn overlap, first (CEST)"),
        LocalCase(
            tzid: "Europe/Berlin", local: "20261025T033000", utc: "20261025T023000Z", why: "after the overlap, CET"),
        LocalCase(
            tzid: "America/New_York", local: "20260308T023000", utc: "20260308T073000Z",
            why: "spring gap, read as 03:30 EDT"),
        LocalCase(
            tzid: "America/New_York", local: "20261101T013000", utc: "20261101T053000Z", why: "overlap, first (EDT)"),
        LocalCase(
            tzid: "America/New_York", local: "20261101T020000", utc: "20261101T070000Z", why: "after the overlap, EST"),
        LocalCase(
            tzid: "Australia/Sydney", local: "20261004T023000", utc: "20261003T163000Z", why: "spring gap in October"),
        LocalCase(
            tzid: "Australia/Sydney", local: "20260405T023000", utc: "20260404T153000Z",
            why: "overlap in April, first (AEDT)"),
        LocalCase(
            tzid: "Australia/Sydney", local: "20260705T120000", utc: "20260705T020000Z", why: "southern winter, AEST"),
        LocalCase(
            tzid: "Asia/Kolkata", local: "20260612T163000", utc: "20260612T110000Z", why: "half-hour offset, no DST"),
        // Gaps of other lengths tell the rule (the offset before the gap) from its look-alikes
        // (the offset after it, the end of the gap, one hour forward), which a one-hour gap at
        // :30 cannot.
        LocalCase(
            tzid: "Australia/Lord_Howe", local: "20261004T021500", utc: "20261003T154500Z",
            why: "a half-hour gap (02:00 to 02:30), read with the offset before it (+10:30)"),
        LocalCase(
            tzid: "Antarctica/Troll", local: "20260329T013000", utc: "20260329T013000Z",
            why: "a two-hour gap (01:00 to 03:00), read with the offset before it (+00)"),
        LocalCase(
            tzid: "Southern Custom Time", local: "20261004T023000", utc: "20261003T163000Z",
            why: "embedded VTIMEZONE only: spring gap in October"),
        LocalCase(
            tzid: "Southern Custom Time", local: "20260405T023000", utc: "20260404T153000Z",
            why: "embedded VTIMEZONE only: overlap in April"),
        LocalCase(
            tzid: "Southern Custom Time", local: "20260105T090000", utc: "20260104T220000Z",
            why: "embedded VTIMEZONE only: southern summer"),
        LocalCase(
            tzid: "US/Eastern", local: "20260701T090000", utc: "20260701T130000Z", why: "alias of America/New_York"),
        LocalCase(
            tzid: "Eastern Standard Time", local: "20260310T090000", utc: "20260310T130000Z", why: "Windows name"),
        LocalCase(
            tzid: "/mozilla.org/20050126_1/Europe/Berlin", local: "20260701T090000", utc: "20260701T070000Z",
            why: "IANA name at the end of a path-like TZID"),
    ]

    static func zonesCalendar(_ events: [String]) throws -> String {
        let zones = try Support.fixture("zones-current-rules.ics")
        // The fixture's VTIMEZONEs, followed by the events.
        let body = zones.components(separatedBy: "\n").map { $0.hasSuffix("\r") ? String($0.dropLast()) : $0 }
            .filter { !$0.isEmpty && !$0.hasPrefix("END:VCALENDAR") }
        return (body + events + ["END:VCALENDAR"]).joined(separator: "\r\n") + "\r\n"
    }

    @Test("a local time becomes the instant RFC 5545 gives it", arguments: cases)
    func localTime(_ c: LocalCase) throws {
        let text = try Self.zonesCalendar(Support.event(["DTSTART;TZID=\"\(c.tzid)\":\(c.local)"]))
        let e = try Support.expander(text)
        let got = e.allInstances(from: Support.utc("20200101T000000Z"), to: Support.utc("20300101T000000Z"))
        #expect(got.map { Support.utcText($0.start) } == [c.utc])
        #expect(got.first?.writtenStart.description == c.local)
        #expect(got.first?.tzid == c.tzid)
        #expect(e.diagnostics.isEmpty)
    }

    @Test("a daily series across Berlin's spring gap keeps 02:30 where it exists and moves it where it does not")
    func dailyAcrossTheGap() throws {
        let text = Support.calendar(
            Support.event([
                "DTSTART;TZID=Europe/Berlin:20260328T023000", "DURATION:PT1H",
                "RRULE:FREQ=DAILY;COUNT=3",
            ]))
        let got = try Support.expander(text).allInstances(from: 0, to: Support.utc("20300101T000000Z"))
        #expect(got.map { Support.utcText($0.start) } == ["20260328T013000Z", "20260329T013000Z", "20260330T003000Z"])
        #expect(got.map(\.writtenStart.description) == ["20260328T023000", "20260329T023000", "20260330T023000"])
        #expect(got.map { $0.end - $0.start } == [3600, 3600, 3600])
    }

    @Test("an hourly series through New York's autumn overlap lists each instant once, in order")
    func hourlyThroughTheOverlap() throws {
        let text = Support.calendar(
            Support.event([
                "DTSTART;TZID=America/New_York:20261101T000000",
                "RRULE:FREQ=HOURLY;COUNT=4",
            ]))
        let got = try Support.utcStarts(text)
        // 00:00 EDT, 01:00 EDT (first of the two), 02:00 EST, 03:00 EST: the wall clock's hours.
        #expect(got == ["20261101T040000Z", "20261101T050000Z", "20261101T070000Z", "20261101T080000Z"])
    }

    @Test("an hourly series through the spring gap does not list the moved hour twice")
    func hourlyThroughTheGap() throws {
        let text = Support.calendar(
            Support.event([
                "DTSTART;TZID=America/New_York:20260308T000000",
                "RRULE:FREQ=HOURLY;COUNT=5",
            ]))
        // 00:00, 01:00 EST; 02:00 does not exist and moves to 03:00 EDT, the same instant as 03:00.
        #expect(
            try Support.utcStarts(text) == [
                "20260308T050000Z", "20260308T060000Z", "20260308T070000Z", "20260308T080000Z",
            ])
    }

    @Test("Windows zone names from the Outlook fixture are read with tzdata through CLDR's mapping")
    func outlookWindowsZones() throws {
        let e = try Support.expander(try Support.fixture("outlook-windows-zones.ics"))
        #expect(e.diagnostics.filter { $0.kind == .unknownZone || $0.kind == .invalidZone }.isEmpty)
        let got = e.allInstances(from: Support.utc("20260101T000000Z"), to: Support.utc("20270101T000000Z"))
        let berlin = got.filter { $0.tzid == "W. Europe Standard Time" }
        let eastern = got.filter { $0.tzid == "Eastern Standard Time" }
        #expect(eastern.map { Support.utcText($0.start) } == ["20260310T130000Z"])  // EDT from March 8
        #expect(berlin.first.map { Support.utcText($0.start) } == "20260203T090000Z")
        // The Thursday series: 14:30 Berlin from Feb 5 until 2026-06-25T12:30Z (inclusive).
        let weekly = berlin.filter { $0.writtenStart.description.hasSuffix("T143000") }
        #expect(weekly.count == 21)
        #expect(weekly.last.map { Support.utcText($0.start) } == "20260625T123000Z")
        #expect(weekly.first.map { Support.utcText($0.end) } == "20260205T140000Z")
    }

    @Test("a Windows name resolves to its tzdata zone, not to the embedded copy")
    func windowsNameUsesDatabase() {
        let r = ZoneResolver(timezones: [], calendarZone: nil, options: ExpansionOptions())
        #expect(r.zone(named: "W. Europe Standard Time")?.source == .database("Europe/Berlin"))
        #expect(r.zone(named: "AUS Eastern Standard Time")?.source == .database("Australia/Sydney"))
        #expect(r.zone(named: "India Standard Time")?.offset(atUTC: 0) == 19_800)
        #expect(WindowsZones.table.count >= 135)
    }

    static let cldrFile = "/usr/share/unicode/cldr/common/supplemental/windowsZones.xml"

    @Test(
        "the Windows table is CLDR's windowsZones.xml as installed (Debian unicode-cldr-core): run .ci/windows-zones",
        .enabled(if: FileManager.default.fileExists(atPath: cldrFile)))
    func windowsTableIsCLDRs() throws {
        // The file names an external DTD, which the hardened reader refuses: it is left out.
        let text = try String(contentsOfFile: Self.cldrFile, encoding: .utf8)
            .split(separator: "\n", omittingEmptySubsequences: false)
            .filter { !$0.hasPrefix("<!DOCTYPE") }.joined(separator: "\n")
        let root = try SafeXMLReader().parse(Array(text.utf8))
        var mapping: [String: String] = [:]
        func walk(_ e: XMLElement) {
            if e.name == "mapZone", e.attribute("territory") == "001", let other = e.attribute("other"),
                let type = e.attribute("type")
            {
                mapping[other] = type
            }
            e.elements.forEach(walk)
        }
        walk(root)
        #expect(mapping.count > 100)
        #expect(WindowsZones.cldr == mapping)
        // A retired name never hides one CLDR lists.
        #expect(Set(WindowsZones.retired.keys).isDisjoint(with: mapping.keys))
    }

    @Test("every Windows name in the table maps to a zone the database has")
    func windowsTableResolves() {
        let db = FoundationZoneDatabase()
        let missing = WindowsZones.table.filter { db.history(of: $0.value, from: 0, to: 86_400) == nil }.map(\.key)
        #expect(missing.isEmpty)
    }

    @Test("an unknown TZID is reported by name and read as floating in the calendar's X-WR-TIMEZONE")
    func unknownZone() throws {
        let text = Support.calendar(
            ["X-WR-TIMEZONE:Europe/Berlin"]
                + Support.event(["DTSTART;TZID=Mars/Olympus_Mons:20260701T090000"], uid: "mars"))
        let e = try Support.expander(text)
        let unknown = e.diagnostics.filter { $0.kind == .unknownZone }
        #expect(unknown.count == 1)
        #expect(unknown.first?.message.contains("\"Mars/Olympus_Mons\"") == true)
        #expect(unknown.first?.uid == "mars")
        #expect(
            e.allInstances(from: 0, to: Support.utc("20300101T000000Z")).map { Support.utcText($0.start) } == [
                "20260701T070000Z"
            ])
    }

    @Test("floating and DATE values go to X-WR-TIMEZONE, else to the caller's zone, else UTC")
    func floatingPlacement() throws {
        let event =
            Support.event(["DTSTART:20260701T090000"]) + Support.event(["DTSTART;VALUE=DATE:20260702"], uid: "d")
        let window = (from: "20260101T000000Z", to: "20270101T000000Z")
        #expect(
            try Support.utcStarts(
                Support.calendar(["X-WR-TIMEZONE:America/New_York"] + event), from: window.from, to: window.to)
                == ["20260701T130000Z", "20260702T040000Z"])
        #expect(
            try Support.utcStarts(
                Support.calendar(event), from: window.from, to: window.to,
                options: ExpansionOptions(floatingZone: "Asia/Kolkata"))
                == ["20260701T033000Z", "20260701T183000Z"])
        #expect(
            try Support.utcStarts(Support.calendar(event), from: window.from, to: window.to)
                == ["20260701T090000Z", "20260702T000000Z"])
        #expect(
            try Support.utcStarts(
                Support.calendar(["X-WR-TIMEZONE:Not/AZone"] + event), from: window.from, to: window.to)
                == ["20260701T090000Z", "20260702T000000Z"])
    }

    @Test("a zone table turns local times into instants without Foundation, and back")
    func zoneRulesRoundTrip() throws {
        let berlin = try #require(
            ZoneResolver(timezones: [], calendarZone: nil, options: ExpansionOptions()).zone(named: "Europe/Berlin"))
        let instant = Support.utc("20260715T120000Z")
        #expect(berlin.offset(atUTC: instant) == 7200)
        #expect(berlin.utc(fromLocal: berlin.local(fromUTC: instant)) == instant)
        #expect(berlin.offset(atUTC: Support.utc("20260115T120000Z")) == 3600)
    }
}
