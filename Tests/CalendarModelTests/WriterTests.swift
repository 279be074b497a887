import Testing
@testable import CalendarModel

@Suite struct WriterTests {
    @Test func writesCRLFAndEscapesText() throws {
        let cal = ICalComponent(
            name: "VCALENDAR",
            components: [
                ICalComponent(
                    name: "VEVENT",
                    properties: [
                        ICalProperty("UID", .text("x")),
                        ICalProperty("SUMMARY", .text("a,b;c\\d\ne")),
                        ICalProperty(
                            "ATTENDEE", .calAddress("mailto:a@x.org"),
                            parameters: [ICalParameter("CN", "Doe, \"J\"\n^")]),
                        ICalProperty("DTSTART", .date(.init(year: 2026, month: 1, day: 5))),
                    ])
            ])
        let text = ICalWriter.string([cal])
        #expect(
            text == "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:x\r\nSUMMARY:a\\,b\\;c\\\\d\\ne\r\n"
                + "ATTENDEE;CN=\"Doe, ^'J^'^n^^\":mailto:a@x.org\r\nDTSTART;VALUE=DATE:20260105\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
        )
    }

    @Test(arguments: [1, 2, 3, 4])
    func foldsAt75OctetsWithoutSplittingUTF8(width: Int) throws {
        // Characters of 1 to 4 UTF-8 bytes, so every fold position is tried against a sequence.
        let ch = ["a", "é", "€", "🎉"][width - 1]
        let summary = String(repeating: ch, count: 300 / width) + "x"
        let cal = ICalComponent(
            name: "VCALENDAR",
            components: [
                ICalComponent(name: "VEVENT", properties: [ICalProperty("SUMMARY", .text(summary))])
            ])
        let bytes = ICalWriter.write([cal])
        var lines: [[UInt8]] = []
        var current: [UInt8] = []
        var i = 0
        while i < bytes.count {
            if bytes[i] == 0x0D {
                #expect(bytes[i + 1] == 0x0A)
                lines.append(current)
                current = []
                i += 2
                continue
            }
            #expect(bytes[i] != 0x0A, "bare LF in output")
            current.append(bytes[i])
            i += 1
        }
        for line in lines {
            #expect(line.count <= 75)
            // Each physical line is valid UTF-8 on its own: no sequence was split.
            let content = line.first == 0x20 ? Array(line.dropFirst()) : line
            #expect(String(validating: content, as: UTF8.self) != nil)
        }
        let doc = try ICalParser().parse(bytes)
        #expect(doc.calendars == [cal])
    }

    /// With `WrittenZones`, a zone tree shared by several calendars is written once and its
    /// text repeated; a zone of the same name in another tree is written itself.
    @Test func sharedZonesAreWrittenOnceWithTheSameText() throws {
        func zone(_ name: String) -> ICalComponent {
            ICalComponent(
                name: "VTIMEZONE", properties: [ICalProperty("TZID", .text("Europe/Berlin"))],
                components: [
                    ICalComponent(name: "STANDARD", properties: [ICalProperty("TZNAME", .text(name))])
                ])
        }
        let shared = zone("CET")
        let other = zone("CEST")
        let calendars = [shared, shared, other, shared].enumerated().map { i, z in
            ICalComponent(
                name: "VCALENDAR",
                components: [z, ICalComponent(name: "VEVENT", properties: [ICalProperty("UID", .text("e\(i)"))])])
        }
        let zones = ICalWriter.WrittenZones()
        let written = calendars.map { ICalWriter.string([$0], zones: zones) }
        #expect(written == calendars.map { ICalWriter.string([$0]) })
        #expect(written[2].contains("TZNAME:CEST") && written[3].contains("TZNAME:CET\r\n"))
        #expect(zones.count == 2)
    }

    @Test func writesValueOnlyWhereTheTypeIsNotTheDefault() {
        let props = [
            ICalProperty(
                "RDATE",
                .period(
                    .init(
                        start: .init(year: 2006, month: 1, day: 2, hour: 15, minute: 0, second: 0, isUTC: false),
                        end: .duration(.init(hours: 2)))), parameters: [ICalParameter("TZID", "US/Eastern")]),
            ICalProperty(
                "DTSTART", .dateTime(.init(year: 2006, month: 1, day: 2, hour: 15, minute: 0, second: 0, isUTC: true))),
            ICalProperty("X-N", .integer(5)),
            ICalProperty("X-U", .unknown("raw,text")),
            ICalProperty("REFRESH-INTERVAL", .duration(.init(weeks: 1))),
        ]
        let text = ICalWriter.string([ICalComponent(name: "VCALENDAR", properties: props)])
        #expect(text.contains("RDATE;VALUE=PERIOD;TZID=US/Eastern:20060102T150000/PT2H\r\n"))
        #expect(text.contains("DTSTART:20060102T150000Z\r\n"))
        #expect(text.contains("X-N;VALUE=INTEGER:5\r\n"))
        #expect(text.contains("X-U:raw,text\r\n"))
        #expect(text.contains("REFRESH-INTERVAL;VALUE=DURATION:P1W\r\n"))
    }

    @Test func binaryValuesGetTheirEncodingParameter() {
        let p = ICalProperty("ATTACH", .binary("SGVsbG8="), parameters: [ICalParameter("FMTTYPE", "text/plain")])
        let text = ICalWriter.string([ICalComponent(name: "VEVENT", properties: [p])])
        #expect(text.contains("ATTACH;VALUE=BINARY;FMTTYPE=text/plain;ENCODING=BASE64:SGVsbG8=\r\n"))
    }

    @Test func roundTripsEveryFixture() throws {
        for fixture in try Fixtures.icalendarFiles() {
            let first = try ICalParser().parse(fixture.bytes)
            let written = ICalWriter.write(first.calendars)
            let second = try ICalParser().parse(written)
            #expect(second.calendars == first.calendars, "\(fixture.name) changed in a round trip")
            // What we write is clean: no diagnostics except for values that were invalid to begin with.
            let invalidKept = first.calendars.flatMap(\.allValues).filter {
                if case .unknown = $0 { true } else { false }
            }.count
            if invalidKept == 0 { #expect(second.diagnostics.isEmpty, "\(fixture.name): \(second.diagnostics)") }
        }
    }
}

extension ICalComponent {
    /// Every value in the component and below.
    var allValues: [ICalValue] {
        properties.flatMap(\.values) + components.flatMap(\.allValues)
    }
}
