import FileCommands
import Foundation
import OutboardCLI
import Testing

/// Runs `outboard ARGS` in-process, as the executable would, and returns (exit code, stdout, stderr).
func outboard(_ args: String..., stdin: String = "") async -> (code: Int32, out: String, err: String) {
    await outboard(arguments: args, stdin: stdin)
}

/// `outboard ARGS` in-process, the arguments as an array.
func outboard(arguments args: [String], stdin: String = "") async -> (code: Int32, out: String, err: String) {
    let console = Console.recording(stdin: Array(stdin.utf8))
    let code = await Console.$current.withValue(console) { await OutboardCommand.run(arguments: args) }
    return (code, console.output, console.errorOutput)
}

func temporaryFile(_ name: String, _ contents: String) throws -> String {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("outboard-cli-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    let url = dir.appendingPathComponent(name)
    try contents.write(to: url, atomically: true, encoding: .utf8)
    return url.path
}

let sample =
    [
        "BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//t//EN",
        "BEGIN:VEVENT", "UID:series@x", "DTSTART;TZID=Europe/Berlin:20260105T090000",
        "DTEND;TZID=Europe/Berlin:20260105T100000",
        "RRULE:FREQ=WEEKLY;COUNT=4", "SUMMARY:Training\\, weekly", "END:VEVENT",
        "BEGIN:VEVENT", "UID:series@x", "RECURRENCE-ID;TZID=Europe/Berlin:20260112T090000",
        "DTSTART;TZID=Europe/Berlin:20260112T110000", "SUMMARY:Training (moved)", "END:VEVENT",
        "BEGIN:VEVENT", "UID:allday@x", "DTSTART;VALUE=DATE:20260105", "SUMMARY:Holiday", "END:VEVENT",
        "END:VCALENDAR",
    ].joined(separator: "\r\n") + "\r\n"

@Suite struct ICSCommandTests {
    @Test func inspectPrintsOneJSONObjectPerComponent() async throws {
        let file = try temporaryFile("s.ics", sample)
        let r = await outboard("ics", "inspect", file)
        #expect(r.code == 0)
        #expect(r.err == "")
        let lines = r.out.split(separator: "\n").map(String.init)
        #expect(
            lines == [
                #"{"component":"VEVENT","key":"series@x","uid":"series@x","summary":"Training, weekly","dtstart":"20260105T090000","dtstart-tzid":"Europe/Berlin","dtend":"20260105T100000","dtend-tzid":"Europe/Berlin","has-rrule":true,"diagnostics":[]}"#,
                #"{"component":"VEVENT","key":"series@x","uid":"series@x","recurrence-id":"20260112T090000","recurrence-id-tzid":"Europe/Berlin","summary":"Training (moved)","dtstart":"20260112T110000","dtstart-tzid":"Europe/Berlin","has-rrule":false,"diagnostics":[]}"#,
                #"{"component":"VEVENT","key":"allday@x","uid":"allday@x","summary":"Holiday","dtstart":"20260105","has-rrule":false,"diagnostics":[]}"#,
            ])
        for line in lines {
            #expect(try JSONSerialization.jsonObject(with: Data(line.utf8)) is [String: Any])
        }
    }

    @Test func inspectReadsStandardInputAndReportsDiagnosticsWithLineNumbers() async throws {
        let broken = sample.replacingOccurrences(of: "SUMMARY:Holiday", with: "SUMMARY:Holiday\r\nNO COLON HERE")
        let r = await outboard("ics", "inspect", "-", stdin: broken)
        #expect(r.code == 1)
        #expect(
            r.err
                == "<stdin>:21: no ':' between name and value; line skipped: \"NO COLON HERE\" (VEVENT uid=allday@x)\n")
        #expect(
            r.out.contains(
                #""diagnostics":["line 21: no ':' between name and value; line skipped: \"NO COLON HERE\""]"#))
    }

    @Test func xcalConversionRoundTrips() async throws {
        let file = try temporaryFile("s.ics", sample)
        let x = await outboard("ics", "to-xcal", file)
        #expect(x.code == 0)
        #expect(
            x.out.hasPrefix(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<icalendar xmlns=\"urn:ietf:params:xml:ns:icalendar-2.0\">"
            ))
        let back = await outboard("ics", "from-xcal", "-", stdin: x.out)
        #expect(back.code == 0)
        #expect(back.out == sample)
    }

    @Test func hashPrintsKeyAndDigestPerItem() async throws {
        let file = try temporaryFile("s.ics", sample)
        let r = await outboard("ics", "hash", file)
        #expect(r.code == 0)
        let rows = r.out.split(separator: "\n").map { $0.split(separator: "\t").map(String.init) }
        #expect(rows.map { $0[0] } == ["series@x", "allday@x"])
        #expect(rows.allSatisfy { $0[1].count == 64 })
        // DTSTAMP is skipped by default, so adding one does not change the digest.
        let stamped = sample.replacingOccurrences(
            of: "SUMMARY:Holiday", with: "SUMMARY:Holiday\r\nDTSTAMP:20260101T000000Z")
        let again = await outboard("ics", "hash", "-", stdin: stamped)
        #expect(again.out == r.out)
        let unskipped = await outboard("ics", "hash", "--no-default-skips", "-", stdin: stamped)
        #expect(unskipped.out != r.out)
        let skipSummary = await outboard(
            "ics", "hash", "--skip", "summ*", "-", stdin: sample.replacingOccurrences(of: "Holiday", with: "Feiertag"))
        let skipSummaryBase = await outboard("ics", "hash", "--skip", "SUMMARY", file)
        #expect(skipSummary.out == skipSummaryBase.out)
    }

    @Test func notICalendarIsOneClearError() async throws {
        let file = try temporaryFile("page.html", "<!DOCTYPE html>\n<html><body>503</body></html>\n")
        let r = await outboard("ics", "inspect", file)
        #expect(r.code == 1)
        #expect(r.out == "")
        #expect(
            r.err
                == "outboard: \(file): not iCalendar data: line 1 is \"<!DOCTYPE html>\", where BEGIN:VCALENDAR was expected\n"
        )
    }

    @Test func badUsageExitsTwo() async {
        #expect(await outboard("ics", "inspect").code == 2)
        #expect(await outboard("ics", "frobnicate", "x").code == 2)
        #expect(await outboard("ics", "inspect", "/nonexistent/file.ics").code == 2)
        #expect(
            await outboard("ics", "inspect", "/nonexistent/file.ics").err
                == "outboard: cannot read /nonexistent/file.ics: no such file\n")
    }

    @Test func helpExitsZero() async {
        let r = await outboard("ics", "--help")
        #expect(r.code == 0)
        #expect(r.out.contains("inspect"))
        #expect(r.out.contains("to-xcal"))
    }
}
