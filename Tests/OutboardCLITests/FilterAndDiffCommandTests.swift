import Foundation
import OutboardCLI
import Testing

let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()

let oldCalendar =
    [
        "BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//old//EN",
        "BEGIN:VEVENT", "UID:a@x", "DTSTAMP:20260101T000000Z", "DTSTART:20260105T090000Z", "SUMMARY:Old title",
        "ATTENDEE;PARTSTAT=NEEDS-ACTION:mailto:ann@x.org", "CATEGORIES:Sport", "CLASS:PRIVATE", "END:VEVENT",
        "BEGIN:VEVENT", "UID:gone@x", "DTSTART:20260106T090000Z", "SUMMARY:Gone", "END:VEVENT",
        "END:VCALENDAR",
    ].joined(separator: "\r\n") + "\r\n"

let newCalendar =
    [
        "BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//new//EN",
        "BEGIN:VEVENT", "UID:a@x", "DTSTAMP:20270101T000000Z", "DTSTART:20260105T090000Z", "SUMMARY:New title",
        "ATTENDEE;PARTSTAT=ACCEPTED:mailto:ann@x.org", "CATEGORIES:Sport,Cup", "CLASS:PRIVATE", "END:VEVENT",
        "BEGIN:VEVENT", "UID:new@x", "DTSTART:20260107T090000Z", "SUMMARY:New", "END:VEVENT",
        "END:VCALENDAR",
    ].joined(separator: "\r\n") + "\r\n"

@Suite struct DiffCommandTests {
    @Test func printsOneWholeLinePerEditAndExitsOneWhenTheFilesDiffer() async throws {
        let old = try temporaryFile("old.ics", oldCalendar)
        let new = try temporaryFile("new.ics", newCalendar)
        let r = await outboard("diff", old, new)
        #expect(r.code == 1)
        #expect(r.err == "")
        #expect(
            r.out == """
                ~ VEVENT uid=a@x SUMMARY "Old title" -> "New title"
                ~ VEVENT uid=a@x ATTENDEE mailto:ann@x.org PARTSTAT "NEEDS-ACTION" -> "ACCEPTED"
                + VEVENT uid=a@x CATEGORIES "Cup"
                - VEVENT uid=gone@x
                + VEVENT uid=new@x

                """)
    }

    @Test func equalFilesPrintNothingAndExitZero() async throws {
        let old = try temporaryFile("old.ics", oldCalendar)
        let stamped = try temporaryFile(
            "same.ics",
            oldCalendar.replacingOccurrences(of: "DTSTAMP:20260101T000000Z", with: "DTSTAMP:20300101T000000Z"))
        let r = await outboard("diff", old, stamped)
        #expect(r.code == 0)
        #expect(r.out == "")
    }

    @Test func skipHidesAPropertyOrAComponent() async throws {
        let old = try temporaryFile("old.ics", oldCalendar)
        let new = try temporaryFile(
            "new.ics", oldCalendar.replacingOccurrences(of: "SUMMARY:Old title", with: "SUMMARY:Other"))
        #expect(await outboard("diff", old, new).code == 1)
        #expect(await outboard("diff", "--skip", "summary", old, new).code == 0)
    }

    @Test func xmlFormatCarriesTheCalWSOperations() async throws {
        let old = try temporaryFile("old.ics", oldCalendar)
        let new = try temporaryFile("new.ics", newCalendar)
        let r = await outboard("diff", "--format", "xml", old, new)
        #expect(r.code == 1)
        #expect(
            r.out.hasPrefix(
                #"<?xml version="1.0" encoding="UTF-8"?>"# + "\n"
                    + #"<C:multiOp xmlns="urn:ietf:params:xml:ns:icalendar-2.0" xmlns:C="http://docs.oasis-open.org/ws-calendar/ns/soap"><C:operations><C:updateItem><C:href>a@x</C:href><C:select>"#
            ))
        #expect(
            r.out.contains(
                #"<C:property><summary><text>Old title</text></summary><C:change><summary><text>New title</text></summary></C:change></C:property>"#
            ))
        #expect(r.out.contains("<C:deleteItem><C:href>gone@x</C:href></C:deleteItem>"))
        #expect(r.out.contains("<C:addItem><C:href>new@x</C:href><icalendar>"))
    }

    @Test func anUnreadableOrNonCalendarFileExitsTwo() async throws {
        let old = try temporaryFile("old.ics", oldCalendar)
        let html = try temporaryFile("page.html", "<html></html>\n")
        #expect(await outboard("diff", old, "/nonexistent.ics").code == 2)
        let r = await outboard("diff", old, html)
        #expect(r.code == 2)
        #expect(r.err.contains("not iCalendar data"))
    }
}

@Suite struct FilterCommandTests {
    let filters = repository.appendingPathComponent("Filters").path

    @Test func filtersTheSampleFeedAndReportsWhatEachRuleDid() async throws {
        let feed = repository.appendingPathComponent("Subscriptions/feeds/city-sports.ics").path
        let r = await outboard(
            "filter", "--filters", filters, "--filter", "public-events", "--filter", "strip-alarms",
            "--now", "20261121T120000Z", feed)
        #expect(r.code == 0)
        #expect(
            r.err == """
                filter strip-alarms rule 1 (remove component VALARM): 18 changes in 17 items
                filter public-events rule 2 (add CATEGORIES): 18 changes in 17 items
                filter public-events rule 5 (set CLASS): 3 changes in 2 items
                dropped board-2026-03@cityathletics.example by filter public-events rule 1
                kept 17 of 18 items

                """)
        #expect(!r.out.contains("BEGIN:VALARM"))
        #expect(!r.out.contains("board-2026-03"))
        #expect(r.out.hasPrefix("BEGIN:VCALENDAR\r\n"))
        // What it prints is a calendar again: the same items, filtered.
        let again = await outboard("ics", "hash", "-", stdin: r.out)
        #expect(again.code == 0)
        #expect(again.out.split(separator: "\n").count == 17)
    }

    @Test func aBadFilterFileIsReportedWithItsLineAndExitsTwo() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("outboard-filters-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        try "stage: input\nrules:\n  - remove-propery: X-FOO\n".write(
            to: dir.appendingPathComponent("bad.yaml"), atomically: true, encoding: .utf8)
        let feed = try temporaryFile("f.ics", oldCalendar)
        let r = await outboard("filter", "--filters", dir.path, "--filter", "bad", feed)
        #expect(r.code == 2)
        #expect(r.out == "")
        #expect(r.err.contains("bad.yaml:3: rule 1 has no action"))
        let missing = await outboard("filter", "--filters", dir.path, "--filter", "bda", feed)
        #expect(missing.err == "no filter \"bda\" in \(dir.path); did you mean bad? (there are: bad)\n")
    }

    @Test func filterNeedsAFilter() async throws {
        // A readable calendar, so that only the missing --filter can be the reason.
        let feed = try temporaryFile("f.ics", oldCalendar)
        let r = await outboard("filter", "--filters", filters, feed)
        #expect(r.code == 2)
        #expect(r.out == "")
        #expect(r.err.hasPrefix("Error: give at least one --filter NAME\n"), "\(r.err)")
    }
}
