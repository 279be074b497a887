import Testing
@testable import CalendarModel

/// Builds CRLF iCalendar text from lines.
func ics(_ lines: [String], ending: String = "\r\n") -> String {
    lines.joined(separator: ending) + ending
}

func event(_ body: [String]) -> String {
    ics(
        ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Test//EN", "BEGIN:VEVENT"] + body + [
            "END:VEVENT", "END:VCALENDAR",
        ])
}

func firstEvent(_ doc: ICalDocument) -> ICalComponent {
    doc.calendars[0].components.first { $0.name == "VEVENT" }!
}

@Suite struct ParserTests {
    /// Stored entities read one by one with `SharedZones` (as the target reads them): each
    /// reads exactly as without (trees, diagnostics and their lines, each zone's own line), a
    /// zone whose text was read before is that tree again, and one that differs is its own.
    @Test func zonesReadBeforeAreTakenAgainAndNothingElseChanges() throws {
        func entity(
            _ zoneName: String, _ uid: String, before: [String] = [], after: [String] = [], end: String = "\r\n"
        ) -> [UInt8] {
            let lines =
                ["BEGIN:VCALENDAR", "VERSION:2.0"] + before + [
                    "BEGIN:VTIMEZONE", "TZID:Europe/Berlin", "BEGIN:STANDARD",
                    "DTSTART:19701025T030000", "TZOFFSETFROM:+0200", "TZOFFSETTO:+0100", "TZNAME:\(zoneName)",
                    "END:STANDARD",
                    "END:VTIMEZONE",
                ] + after + [
                    "BEGIN:VEVENT", "UID:\(uid)", "DTSTART;TZID=Europe/Berlin:20260105T090000",
                    "END:VEVENT", "END:VCALENDAR",
                ]
            return Array((lines.joined(separator: end) + end).utf8)
        }
        let entities: [[UInt8]] = [
            entity("CET", "a"), entity("CET", "b", before: ["X-A:1", "X-B:2"]), entity("CEST", "c"),
            // A diagnostic after a zone taken again: its line is right.
            entity("CET", "d", after: ["X-BAD;VALUE=DATE:nope"]),
            entity("CET", "e", after: [" X-FOLDED:1"]),  // the END line continues: not the zone's text
            entity("CET", "f", end: "\n"), entity("CET", "g", end: "\r"), entity("CET", "h"),
        ]
        let zones = SharedZones()
        let shared = try entities.map { try ICalParser().parse($0, zones: zones) }
        let plain = try entities.map { try ICalParser().parse($0) }
        #expect(shared == plain)
        for (s, p) in zip(shared, plain) {
            #expect(s.calendars[0].components.map(\.line) == p.calendars[0].components.map(\.line))
        }
        let key = { (i: Int) in shared[i].calendars[0].components[0].storageKey }
        #expect(key(0) == key(1) && key(0) == key(3) && key(0) == key(7))
        #expect(key(2) != key(0))
        #expect(plain[3].diagnostics.count == 1 && plain[4].diagnostics.count >= 1)
        #expect(zones.count == 4, "CET with CRLF, CEST, and CET with LF and with CR line ends")
    }

    /// A BEGIN:VTIMEZONE line folded into another name begins something else: what closes later
    /// (here a zone written in lower case) is not kept with the text from that line on.
    @Test func aZoneIsKeptOnlyWithTheTextItBeganWith() throws {
        let text = Array(
            ("BEGIN:VCALENDAR\r\nBEGIN:VTIMEZONE\r\n X\r\nEND:VTIMEZONEX\r\nbegin:vtimezone\r\nTZID:Z\r\n"
                + "end:vtimezone\r\nEND:VCALENDAR\r\n").utf8)
        let zones = SharedZones()
        let docs = try [text, text].map { try ICalParser().parse($0, zones: zones) }
        #expect(docs[0] == (try ICalParser().parse(text)) && docs[1] == docs[0])
        #expect(docs[1].calendars[0].components.map(\.name) == ["VTIMEZONEX", "VTIMEZONE"])
        #expect(zones.count == 0)
    }

    /// A zone whose reading gave a diagnostic is not kept: the next one with the same text is
    /// read again, with its own diagnostic.
    @Test func aZoneReadWithADiagnosticIsReadAgain() throws {
        let text = Array(
            "BEGIN:VCALENDAR\r\nBEGIN:VTIMEZONE\r\nTZID:Z\r\nTZOFFSETTO;VALUE=DATE:bad\r\nEND:VTIMEZONE\r\nEND:VCALENDAR\r\n"
                .utf8)
        let zones = SharedZones()
        let docs = try [text, text].map { try ICalParser().parse($0, zones: zones) }
        #expect(docs.allSatisfy { $0.diagnostics.count == 1 })
        #expect(zones.count == 0)
        #expect(docs[0].calendars[0].components[0].storageKey != docs[1].calendars[0].components[0].storageKey)
    }

    @Test func unfoldsCRLFAndBareLFAndTabFolds() throws {
        let text =
            "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:x\r\nSUMMARY:Hello\r\n  wor\n\tld\r\nEND:VEVENT\nEND:VCALENDAR\n"
        let doc = try ICalParser().parse(text)
        #expect(firstEvent(doc).property("SUMMARY")?.text == "Hello world")
        #expect(doc.diagnostics.isEmpty)
    }

    @Test func bareCRLineEndsAreLines() throws {
        let text = "BEGIN:VCALENDAR\rBEGIN:VEVENT\rUID:x\rSUMMARY:cr\rEND:VEVENT\rEND:VCALENDAR\r"
        let doc = try ICalParser().parse(text)
        #expect(firstEvent(doc).property("SUMMARY")?.text == "cr")
    }

    @Test func restoresAUTF8SequenceSplitByAFold() throws {
        // "é" is C3 A9; the fold falls between the two bytes.
        var bytes = Array("BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:x\r\nSUMMARY:caf".utf8)
        bytes += [0xC3, 0x0D, 0x0A, 0x20, 0xA9]
        bytes += Array("\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n".utf8)
        let doc = try ICalParser().parse(bytes)
        #expect(firstEvent(doc).property("SUMMARY")?.text == "café")
        #expect(doc.diagnostics.isEmpty)
    }

    @Test func acceptsABOM() throws {
        let doc = try ICalParser().parse([0xEF, 0xBB, 0xBF] + Array(event(["UID:x"]).utf8))
        #expect(firstEvent(doc).uid == "x")
    }

    @Test func invalidUTF8IsDiagnosedAndReplaced() throws {
        var bytes = Array("BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:x\r\nSUMMARY:bad ".utf8)
        bytes += [0xC3, 0x28]
        bytes += Array("\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n".utf8)
        let doc = try ICalParser().parse(bytes)
        #expect(firstEvent(doc).property("SUMMARY")?.text == "bad \u{FFFD}(")
        #expect(doc.diagnostics.map(\.line) == [4])
        #expect(doc.diagnostics[0].message.contains("UTF-8"))
        #expect(doc.diagnostics[0].uid == "x")
    }

    @Test func parametersWithQuotesListsAndCaretEscapes() throws {
        let doc = try ICalParser().parse(
            event([
                "UID:x",
                #"ATTENDEE;cn="Doe, Jane ^'JD^' ^^";DELEGATED-TO="mailto:a@x.org","mailto:b@x.org";ROLE=REQ-PARTICIPANT:mailto:jane@x.org"#,
                #"DESCRIPTION;ALTREP="http://example.com/a:b;c":text"#,
            ]))
        let e = firstEvent(doc)
        let att = e.property("ATTENDEE")!
        #expect(att.parameter("CN") == "Doe, Jane \"JD\" ^")
        #expect(att.parameters.first { $0.name == "DELEGATED-TO" }?.values == ["mailto:a@x.org", "mailto:b@x.org"])
        #expect(att.values == [.calAddress("mailto:jane@x.org")])
        #expect(e.property("DESCRIPTION")?.parameter("ALTREP") == "http://example.com/a:b;c")
        #expect(doc.diagnostics.isEmpty)
    }

    @Test func textEscapesAreRemoved() throws {
        let doc = try ICalParser().parse(event(["UID:x", #"DESCRIPTION:a\,b\;c\\d\ne\Nf: g"#]))
        #expect(firstEvent(doc).property("DESCRIPTION")?.text == "a,b;c\\d\ne\nf: g")
        #expect(doc.diagnostics.isEmpty)
    }

    @Test func anUndefinedEscapeIsKeptLiterallyWithADiagnostic() throws {
        let doc = try ICalParser().parse(event(["UID:x", #"DESCRIPTION:a\:b"#]))
        #expect(firstEvent(doc).property("DESCRIPTION")?.text == #"a\:b"#)
        #expect(doc.diagnostics.count == 1)
    }

    @Test(arguments: [
        (
            "DTSTART:20260105T090000Z",
            ICalValue.dateTime(.init(year: 2026, month: 1, day: 5, hour: 9, minute: 0, second: 0, isUTC: true))
        ),
        ("DTSTART;VALUE=DATE:20260105", .date(.init(year: 2026, month: 1, day: 5))),
        ("DURATION:-P1W2DT3H", .duration(.init(isNegative: true, weeks: 1, days: 2, hours: 3))),
        ("TZOFFSETFROM:-001915", .utcOffset(.init(seconds: -(19 * 60 + 15)))),
        ("PRIORITY:+3", .integer(3)),
        ("X-RATIO;VALUE=FLOAT:-0.5", .float(-0.5)),
        ("X-FLAG;VALUE=BOOLEAN:true", .boolean(true)),
        ("X-AT;VALUE=TIME:123000Z", .time(.init(hour: 12, minute: 30, second: 0, isUTC: true))),
        ("URL:http://example.com/a?b=c;d", .uri("http://example.com/a?b=c;d")),
        ("X-PROPERTY:20110512T120000Z", .unknown("20110512T120000Z")),
        ("FOO-BAR:baz\\,qux", .unknown("baz\\,qux")),
        ("ATTACH;ENCODING=BASE64;VALUE=BINARY:SGVs bG8=", .binary("SGVsbG8=")),
        ("X-TXT;ENCODING=BASE64:SGVsbG8=", .unknown("SGVsbG8=")),
        ("DESCRIPTION;ENCODING=BASE64:SGVsbG8=", .text("Hello")),
        ("GEO:37.386013;-122.082932", .geo(.init(latitude: 37.386013, longitude: -122.082932))),
        (
            "REQUEST-STATUS:3.7;Invalid user;mailto:a\\;b@x.org",
            .requestStatus(.init(code: "3.7", description: "Invalid user", data: "mailto:a;b@x.org"))
        ),
    ])
    func valuesAreTypedAsRFC6321TypesThem(line: String, expected: ICalValue) throws {
        let doc = try ICalParser().parse(event(["UID:x", line]))
        let prop = firstEvent(doc).properties[1]
        #expect(prop.values == [expected])
        #expect(!prop.parameters.contains { $0.name == "VALUE" })
        #expect(doc.diagnostics.isEmpty, "\(doc.diagnostics)")
    }

    @Test func recurrenceRulesAreTyped() throws {
        let doc = try ICalParser().parse(
            event(["UID:x", "RRULE:freq=monthly;byday=MO,+1TU,-1FR;BYSETPOS=-1;UNTIL=20301231T000000Z;X-NAME=v;"]))
        guard case .recur(let r)? = firstEvent(doc).property("RRULE")?.value else {
            Issue.record("not a recur")
            return
        }
        #expect(r.freq == "MONTHLY")
        #expect(r.byDay == ["MO", "1TU", "-1FR"])
        #expect(r.bySetPos == [-1])
        #expect(r.until == .dateTime(.init(year: 2030, month: 12, day: 31, hour: 0, minute: 0, second: 0, isUTC: true)))
        #expect(r.extensions == [.init(name: "X-NAME", value: "v")])
    }

    @Test func multiValuedPropertiesSplitOnUnescapedCommas() throws {
        let doc = try ICalParser().parse(
            event([
                "UID:x", #"CATEGORIES:Sport,Fun\, games"#, "EXDATE;TZID=Europe/Berlin:20260105T090000,20260112T090000",
                "RDATE;VALUE=PERIOD:20260101T100000Z/PT1H,20260102T100000Z/20260102T120000Z",
            ]))
        let e = firstEvent(doc)
        #expect(e.property("CATEGORIES")?.values == [.text("Sport"), .text("Fun, games")])
        #expect(e.property("EXDATE")?.values.count == 2)
        #expect(e.property("RDATE")?.values.map(\.type) == [.period, .period])
    }

    @Test func anInvalidValueIsKeptRawWithADiagnosticNamingTheLine() throws {
        let doc = try ICalParser().parse(event(["UID:x", "DTSTART:2026-13-45"]))
        #expect(firstEvent(doc).property("DTSTART")?.values == [.unknown("2026-13-45")])
        #expect(doc.diagnostics.map(\.line) == [6])
        #expect(doc.diagnostics[0].message.contains("DTSTART"))
    }

    @Test func aDateWithoutValueDateIsReadAsADate() throws {
        let doc = try ICalParser().parse(event(["UID:x", "DTSTART:20260301"]))
        #expect(firstEvent(doc).property("DTSTART")?.values == [.date(.init(year: 2026, month: 3, day: 1))])
        #expect(doc.diagnostics.count == 1)
    }

    @Test func unknownComponentsPropertiesAndParametersAreKept() throws {
        let doc = try ICalParser().parse(
            ics([
                "BEGIN:VCALENDAR", "X-WR-CALNAME:Cal", "BEGIN:X-THING", "X-A;X-P=1:v", "BEGIN:VEVENT", "UID:nested",
                "END:VEVENT", "END:X-THING", "END:VCALENDAR",
            ]))
        let cal = doc.calendars[0]
        #expect(cal.property("X-WR-CALNAME")?.values == [.unknown("Cal")])
        #expect(cal.components[0].name == "X-THING")
        #expect(cal.components[0].property("X-A")?.parameter("X-P") == "1")
        #expect(cal.components[0].components[0].uid == "nested")
    }

    @Test func readsSeveralCalendarsInOneStream() throws {
        let one = event(["UID:a"])
        let doc = try ICalParser().parse(one + one.replacingOccurrences("UID:a", "UID:b"))
        #expect(doc.calendars.count == 2)
        #expect(doc.calendars.map { $0.components[0].uid } == ["a", "b"])
    }

    @Test func aMalformedLineIsSkippedAndTheRestParses() throws {
        let doc = try ICalParser().parse(event(["UID:x", "THIS LINE IS BROKEN", "SUMMARY:still here", ";NONAME:v"]))
        #expect(firstEvent(doc).property("SUMMARY")?.text == "still here")
        #expect(doc.diagnostics.map(\.line) == [6, 8])
    }

    @Test func aMissingEndIsDiagnosedAndTheDataKept() throws {
        let doc = try ICalParser().parse(
            ics([
                "BEGIN:VCALENDAR", "BEGIN:VEVENT", "UID:a", "BEGIN:VEVENT", "UID:b", "END:VEVENT", "END:VCALENDAR",
            ]))
        #expect(doc.calendars[0].components.map(\.uid) == ["a", "b"], "events never nest: the first is closed")
        #expect(doc.diagnostics.count == 1)
        #expect(doc.diagnostics.contains { $0.line == 2 && $0.message.contains("END:VEVENT") })
    }

    @Test(arguments: ["<!DOCTYPE html><html><body>Not found</body></html>", "{\"error\":\"nope\"}", "", "   \r\n\r\n"])
    func inputThatIsNotICalendarGetsOneClearError(_ text: String) {
        #expect(throws: ICalendarError.self) { try ICalParser().parse(text) }
    }

    @Test func theLineLengthLimitIsAClearError() {
        var limits = ICalParser.Limits()
        limits.maxLineBytes = 100
        let text = event(["UID:x", "SUMMARY:" + String(repeating: "a", count: 200)])
        #expect(throws: ICalendarError.limitExceeded(limit: "line length (bytes)", value: 100, line: 6)) {
            try ICalParser(limits: limits).parse(text)
        }
    }

    @Test func aLongFoldedLineCountsTowardTheLimit() {
        var limits = ICalParser.Limits()
        limits.maxLineBytes = 100
        let folds = Array(repeating: " " + String(repeating: "b", count: 60), count: 5)
        let text = ics(["BEGIN:VCALENDAR", "BEGIN:VEVENT", "SUMMARY:a"] + folds + ["END:VEVENT", "END:VCALENDAR"])
        #expect(throws: ICalendarError.self) { try ICalParser(limits: limits).parse(text) }
    }

    @Test func theNestingLimitIsAClearError() {
        let lines = ["BEGIN:VCALENDAR"] + (0..<40).map { "BEGIN:X-N\($0)" }
        #expect(throws: ICalendarError.limitExceeded(limit: "component nesting depth", value: 16, line: 17)) {
            try ICalParser().parse(ics(lines))
        }
    }

    @Test func theComponentCountLimitIsAClearError() {
        var limits = ICalParser.Limits()
        limits.maxComponents = 10
        let lines =
            ["BEGIN:VCALENDAR"] + (0..<20).flatMap { ["BEGIN:VEVENT", "UID:\($0)", "END:VEVENT"] } + ["END:VCALENDAR"]
        #expect(throws: ICalendarError.self) { try ICalParser(limits: limits).parse(ics(lines)) }
    }

    @Test func diagnosticsAreCappedWithACount() throws {
        var limits = ICalParser.Limits()
        limits.maxDiagnostics = 5
        let doc = try ICalParser(limits: limits).parse(event(["UID:x"] + Array(repeating: "BROKEN", count: 12)))
        #expect(doc.diagnostics.count == 6)
        #expect(doc.diagnostics.last?.message == "7 more problems not listed")
    }
}

extension String {
    func replacingOccurrences(_ a: String, _ b: String) -> String {
        split(separator: a, omittingEmptySubsequences: false).joined(separator: b)
    }
}
