import CalendarModel
import Foundation
import SafeXML
import Testing
import TestSupport
import XCal

let xcalNS = "urn:ietf:params:xml:ns:icalendar-2.0"

func parseICS(_ text: String) throws -> ICalDocument { try ICalParser().parse(text) }

/// Follows a path of local names from an element (the first match at each step).
func path(_ e: XMLElement, _ names: String...) -> XMLElement? {
    var cur: XMLElement? = e
    for n in names { cur = cur?.child(n) }
    return cur
}

func crlf(_ lines: [String]) -> String { lines.joined(separator: "\r\n") + "\r\n" }

@Suite struct RFC6321AppendixBTests {
    @Test func exampleB1MatchesTheRFCWithErratum3892() throws {
        let doc = try parseICS(
            crlf([
                "BEGIN:VCALENDAR", "CALSCALE:GREGORIAN", "PRODID:-//Example Inc.//Example Calendar//EN", "VERSION:2.0",
                "BEGIN:VEVENT", "DTSTAMP:20080205T191224Z", "DTSTART;VALUE=DATE:20081006", "SUMMARY:Planning meeting",
                "UID:4088E990AD89CB3DBB484909", "END:VEVENT", "END:VCALENDAR",
            ]))
        let x = XCalWriter.document(doc.calendars)
        #expect(x.name == "icalendar" && x.namespace == xcalNS)
        let props = path(x, "vcalendar", "properties")!
        #expect(path(props, "calscale", "text")?.text == "GREGORIAN")
        #expect(path(props, "prodid", "text")?.text == "-//Example Inc.//Example Calendar//EN")
        #expect(path(props, "version", "text")?.text == "2.0")
        let ev = path(x, "vcalendar", "components", "vevent", "properties")!
        #expect(path(ev, "dtstamp", "date-time")?.text == "2008-02-05T19:12:24Z")
        #expect(path(ev, "dtstart", "date")?.text == "2008-10-06")
        #expect(path(ev, "dtstart", "parameters") == nil, "VALUE is never a parameter in xCal")
        #expect(path(ev, "summary", "text")?.text == "Planning meeting")
        #expect(path(ev, "uid", "text")?.text == "4088E990AD89CB3DBB484909")
        // And back: DTSTART regains VALUE=DATE.
        let back = try XCalReader().read(XCalWriter.write(doc.calendars))
        #expect(ICalWriter.string(back.calendars).contains("DTSTART;VALUE=DATE:20081006\r\n"))
        #expect(back.calendars == doc.calendars)
    }

    @Test func exampleB2MatchesTheRFCWithErratum2929() throws {
        let doc = try parseICS(
            crlf([
                "BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Example Inc.//Example Client//EN",
                "BEGIN:VTIMEZONE", "LAST-MODIFIED:20040110T032845Z", "TZID:US/Eastern",
                "BEGIN:DAYLIGHT", "DTSTART:20000404T020000", "RRULE:FREQ=YEARLY;BYDAY=1SU;BYMONTH=4", "TZNAME:EDT",
                "TZOFFSETFROM:-0500", "TZOFFSETTO:-0400", "END:DAYLIGHT",
                "BEGIN:STANDARD", "DTSTART:20001026T020000", "RRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=10", "TZNAME:EST",
                "TZOFFSETFROM:-0400", "TZOFFSETTO:-0500", "END:STANDARD", "END:VTIMEZONE",
                "BEGIN:VEVENT", "DTSTAMP:20060206T001121Z", "DTSTART;TZID=US/Eastern:20060102T120000", "DURATION:PT1H",
                "RRULE:FREQ=DAILY;COUNT=5", "RDATE;TZID=US/Eastern;VALUE=PERIOD:20060102T150000/PT2H",
                "SUMMARY:Event #2",
                "DESCRIPTION:We are having a meeting all this week at 12 pm fo",
                " r one hour\\, with an additional meeting on the first day 2 h",
                " ours long.\\nPlease bring your own lunch for the 12 pm meetin", " gs.",
                "UID:00959BC664CA650E933C892C@example.com", "END:VEVENT",
                "BEGIN:VEVENT", "DTSTAMP:20060206T001121Z", "DTSTART;TZID=US/Eastern:20060104T140000", "DURATION:PT1H",
                "RECURRENCE-ID;TZID=US/Eastern:20060104T120000", "SUMMARY:Event #2 bis",
                "UID:00959BC664CA650E933C892C@example.com", "END:VEVENT", "END:VCALENDAR",
            ]))
        #expect(doc.diagnostics.isEmpty)
        let x = XCalWriter.document(doc.calendars)
        let comps = path(x, "vcalendar", "components")!
        let tz = comps.child("vtimezone")!
        #expect(path(tz, "properties", "last-modified", "date-time")?.text == "2004-01-10T03:28:45Z")
        #expect(
            path(tz, "properties", "tzid", "text")?.text == "US/Eastern",
            "the TZID property holds <text> (the RFC's printed XML omits it)")
        let daylight = path(tz, "components", "daylight", "properties")!
        #expect(path(daylight, "dtstart", "date-time")?.text == "2000-04-04T02:00:00")
        let recur = path(daylight, "rrule", "recur")!
        #expect(recur.elements.map(\.name) == ["freq", "byday", "bymonth"])
        #expect(recur.elements.map(\.text) == ["YEARLY", "1SU", "4"])
        #expect(path(daylight, "tzoffsetfrom", "utc-offset")?.text == "-05:00")
        #expect(path(daylight, "tzoffsetto", "utc-offset")?.text == "-04:00")
        let events = comps.children("vevent")
        let e1 = events[0].child("properties")!
        #expect(path(e1, "dtstart", "parameters", "tzid", "text")?.text == "US/Eastern")
        #expect(path(e1, "dtstart", "date-time")?.text == "2006-01-02T12:00:00")
        #expect(path(e1, "duration", "duration")?.text == "PT1H")
        #expect(path(e1, "rrule", "recur")?.elements.map(\.text) == ["DAILY", "5"])
        #expect(path(e1, "rdate", "parameters")?.elements.map(\.name) == ["tzid"], "no VALUE parameter")
        #expect(path(e1, "rdate", "period", "start")?.text == "2006-01-02T15:00:00")
        #expect(path(e1, "rdate", "period", "duration")?.text == "PT2H")
        #expect(
            path(e1, "description", "text")?.text
                == "We are having a meeting all this week at 12 pm for one hour, with an additional meeting on the first day 2 hours long.\nPlease bring your own lunch for the 12 pm meetings."
        )
        let e2 = events[1].child("properties")!
        #expect(path(e2, "recurrence-id", "parameters", "tzid", "text")?.text == "US/Eastern")
        #expect(path(e2, "recurrence-id", "date-time")?.text == "2006-01-04T12:00:00")

        let back = try XCalReader().read(XCalWriter.write(doc.calendars))
        #expect(back.calendars == doc.calendars)
        #expect(
            ICalWriter.string(back.calendars).contains("RDATE;VALUE=PERIOD;TZID=US/Eastern:20060102T150000/PT2H\r\n"))
    }
}

@Suite struct XCalValueTests {
    @Test func everyValueTypeRoundTripsThroughXCal() throws {
        let text = crlf([
            "BEGIN:VCALENDAR", "REFRESH-INTERVAL;VALUE=DURATION:P1W", "BEGIN:VEVENT", "UID:v",
            "ATTACH;FMTTYPE=text/plain;ENCODING=BASE64;VALUE=BINARY:SGVsbG8gd29ybGQ=",
            "X-B;VALUE=BOOLEAN:TRUE",
            "ATTENDEE;RSVP=TRUE;DELEGATED-TO=\"mailto:a@x.org\",\"mailto:b@x.org\":mailto:c@x.org",
            "DTSTART;VALUE=DATE:20260105", "DTEND:20260106T100000", "DTSTAMP:20260101T000000Z", "DURATION:-P1DT2H3M4S",
            "X-F;VALUE=FLOAT:-0.5", "PRIORITY:1",
            "RDATE;VALUE=PERIOD:20260101T100000Z/PT1H,20260102T100000Z/20260102T120000Z",
            "RRULE:FREQ=YEARLY;INTERVAL=2;BYMONTH=1;BYDAY=SU;BYHOUR=8,9;BYMINUTE=30;WKST=SU;UNTIL=20301231T000000Z",
            "SUMMARY:a\\, b\\; c\\\\ d\\ne <&> \"q\"", "X-T;VALUE=TIME:123000", "URL:http://x.org/?a=1&b=2",
            "X-O;VALUE=UTC-OFFSET:-001915", "GEO:37.386013;-122.082932",
            "REQUEST-STATUS:3.7;Invalid user;mailto:a\\;b@x.org",
            "REQUEST-STATUS:2.0;Success", "X-PROPERTY:20110512T120000Z", "RECURRENCE-ID;X-PARAM=PT30M:20110512T130000Z",
            "CATEGORIES:A,B\\,C", "EXDATE;VALUE=DATE:20260105,20260112", "END:VEVENT",
            "BEGIN:VFREEBUSY", "UID:f", "FREEBUSY;FBTYPE=BUSY:20260101T100000Z/PT1H,20260101T120000Z/20260101T130000Z",
            "END:VFREEBUSY",
            "END:VCALENDAR",
        ])
        let doc = try parseICS(text)
        #expect(doc.diagnostics.isEmpty, "\(doc.diagnostics)")
        let xml = XCalWriter.write(doc.calendars)
        let back = try XCalReader().read(xml)
        #expect(back.diagnostics.isEmpty, "\(back.diagnostics)")
        #expect(back.calendars == doc.calendars)

        let x = try SafeXMLReader().parse(xml)
        let ev = path(x, "vcalendar", "components", "vevent", "properties")!
        #expect(path(ev, "x-b", "boolean")?.text == "true")
        #expect(path(ev, "attendee", "parameters", "rsvp", "boolean")?.text == "true")
        #expect(
            path(ev, "attendee", "parameters", "delegated-to")?.children("cal-address").map(\.text) == [
                "mailto:a@x.org", "mailto:b@x.org",
            ])
        #expect(path(ev, "x-t", "time")?.text == "12:30:00")
        #expect(path(ev, "x-o", "utc-offset")?.text == "-00:19:15")
        #expect(path(ev, "geo", "latitude")?.text == "37.386013")
        #expect(ev.children("request-status")[0].child("data")?.text == "mailto:a;b@x.org")
        #expect(ev.children("request-status")[1].child("data") == nil, "an empty data part is omitted")
        #expect(path(ev, "x-property", "unknown")?.text == "20110512T120000Z")
        #expect(path(ev, "recurrence-id", "parameters", "x-param", "unknown")?.text == "PT30M")
        #expect(
            path(ev, "rrule", "recur")?.elements.map(\.name) == [
                "freq", "until", "interval", "byminute", "byhour", "byhour", "byday", "bymonth", "wkst",
            ])
        #expect(path(ev, "rrule", "recur", "until")?.text == "2030-12-31T00:00:00Z")
        #expect(path(ev, "exdate")?.children("date").map(\.text) == ["2026-01-05", "2026-01-12"])
        #expect(path(ev, "categories")?.children("text").map(\.text) == ["A", "B,C"])
    }

    @Test func aCarriageReturnInTextSurvivesXML() throws {
        let cal = ICalComponent(name: "VCALENDAR", properties: [ICalProperty("X-T", .text("a\r\nb"), parameters: [])])
        let xml = XCalWriter.write([cal])
        #expect(String(decoding: xml, as: UTF8.self).contains("&#13;"))
        let back = try XCalReader().read(xml)
        #expect(back.calendars == [cal])
    }

    @Test func whitespaceInsideTextIsData() throws {
        let xml =
            #"<icalendar xmlns="urn:ietf:params:xml:ns:icalendar-2.0"><vcalendar><properties><summary><text>  two  spaces </text></summary></properties></vcalendar></icalendar>"#
        let back = try XCalReader().read(Array(xml.utf8))
        #expect(back.calendars[0].property("SUMMARY")?.text == "  two  spaces ")
    }

    @Test func whitespaceOnlyTextIsData() throws {
        let xml =
            #"<icalendar xmlns="urn:ietf:params:xml:ns:icalendar-2.0"><vcalendar><properties><summary><text> </text></summary><x-a><text>&#9;&#10;</text></x-a></properties></vcalendar></icalendar>"#
        let back = try XCalReader().read(Array(xml.utf8))
        #expect(back.calendars[0].property("SUMMARY")?.text == " ")
        #expect(back.calendars[0].property("X-A")?.text == "\t\n")
    }

    /// The parser is fed a chunk at a time (256 KB): a document of several chunks, whose long
    /// UTF-8 texts and elements are cut at chunk boundaries, reads back as it was written.
    @Test func aDocumentOfManyChunksReadsBackWhole() throws {
        let calendars = try ICalParser().parse(Array(FeedGenerator(events: 1500).text().utf8)).calendars
        let xml = XCalWriter.write(calendars)
        #expect(xml.count > 4 * (256 << 10))
        let back = try XCalReader().read(xml)
        #expect(back.diagnostics.isEmpty)
        #expect(back.calendars == calendars)
        // A malformed byte near the end is still found after many chunks.
        var broken = xml
        broken[broken.count - 20] = UInt8(ascii: "<")
        #expect(throws: XCalError.self) { try XCalReader().read(broken) }
    }

    /// A document that repeats a VTIMEZONE (a CalWS request carries each entity's) reads each
    /// distinct zone once, also across the parser's chunks: the repeats share its tree (and
    /// storage), each keeps its own line, and everything reads back equal.
    @Test func repeatedZonesAreReadOnceAndShared() throws {
        let feed = try ICalParser().parse(Array(FeedGenerator(events: 400).text().utf8)).calendars[0]
        let zones = feed.components.filter { $0.name == "VTIMEZONE" }
        var odd = zones[0]
        odd.properties.append(ICalProperty("X-ODD", .text("1")))
        let version = ICalProperty("VERSION", .text("2.0"))
        let calendars = feed.components.filter { $0.name == "VEVENT" }.enumerated().map { i, event in
            ICalComponent(
                name: "VCALENDAR", properties: [version], components: [i == 7 ? odd : zones[i % zones.count], event])
        }
        // A calendar per line, so that each zone has a line of its own.
        let xml = String(decoding: XCalWriter.write(calendars), as: UTF8.self).replacingOccurrences(
            of: "<vcalendar>", with: "\n<vcalendar>")
        #expect(xml.utf8.count > 2 * (256 << 10))
        let back = try XCalReader().read(Array(xml.utf8))
        #expect(back.diagnostics.isEmpty)
        #expect(back.calendars == calendars)
        let read = back.calendars.map { $0.components[0] }
        #expect(Set(read.map(\.storageKey)).count == zones.count + 1)
        #expect(read[0].storageKey == read[4].storageKey && read[3].storageKey == read[calendars.count - 1].storageKey)
        #expect(read[7].storageKey != read[0].storageKey && read[7].storageKey != read[3].storageKey)
        #expect(zip(read, read.dropFirst()).allSatisfy { $0.line < $1.line })
    }

    /// A reading inside another looks up its own subtree: each key keeps what its own reading
    /// gave, so a repeat of the outer subtree gives the outer result, and of the inner the inner.
    @Test func nestedReadingsKeepTheirOwnResults() throws {
        let xml = Array("<r><o><i>x</i><n>1</n></o><o><i>x</i><n>1</n></o><i>x</i></r>".utf8)
        var calls: [String] = []
        let results = try XMLCursor.walk(xml) { root -> [String] in
            var out: [String] = []
            try root.forEachChild { child in
                if child.name == "i" {
                    out.append(
                        try child.reading("inner") { c in
                            calls.append("inner")
                            return ("inner:" + (try c.text()), true)
                        })
                    return
                }
                out.append(
                    try child.reading("outer") { o in
                        calls.append("outer")
                        var parts: [String] = []
                        try o.forEachChild { c in
                            parts.append(
                                c.name == "i"
                                    ? try c.reading("inner") { i in
                                        calls.append("inner")
                                        return ("inner:" + (try i.text()), true)
                                    } : try c.text())
                        }
                        return ("outer:" + parts.joined(separator: ","), true)
                    })
            }
            return out
        }
        #expect(results == ["outer:inner:x,1", "outer:inner:x,1", "inner:x"])
        #expect(calls == ["outer", "inner"], "each subtree read once, the rest taken again")
    }

    /// A zone whose reading gave a diagnostic is read again where it repeats (each repeat gets
    /// its own diagnostic), and so is one too large to be looked at first.
    @Test func zonesWithDiagnosticsOrTooLargeAreReadEachTime() throws {
        func document(_ zone: String) -> [UInt8] {
            let cal =
                "<vcalendar><components><vtimezone><properties><tzid><text>Z</text></tzid>\(zone)</properties></vtimezone></components></vcalendar>"
            return Array("<icalendar xmlns=\"\(xcalNS)\">\(cal)\n\(cal)</icalendar>".utf8)
        }
        let flawed = try XCalReader().read(document("<x-a><bogus>1</bogus></x-a>"))
        #expect(flawed.diagnostics.map(\.line) == [1, 2])
        #expect(flawed.calendars[0].components[0].storageKey != flawed.calendars[1].components[0].storageKey)
        let names = String(repeating: "<tzname><text>CET</text></tzname>", count: 1000)
        let large = try XCalReader().read(document(names))
        #expect(large.diagnostics.isEmpty)
        #expect(large.calendars[0] == large.calendars[1])
        #expect(large.calendars[1].components[0].properties.count == 1001)
        #expect(large.calendars[0].components[0].storageKey != large.calendars[1].components[0].storageKey)
    }

    @Test func pastedXCalWithIndentationAndForeignElementsReads() throws {
        let xml = """
            <?xml version="1.0" encoding="utf-8"?>
            <icalendar xmlns="urn:ietf:params:xml:ns:icalendar-2.0" xmlns:ex="http://example.com/ns">
              <vcalendar>
                <properties>
                  <prodid><text>-//x//EN</text></prodid>
                  <ex:custom>kept as XML</ex:custom>
                </properties>
                <components>
                  <vevent>
                    <properties>
                      <uid><text>u</text></uid>
                      <dtstart><date-time>2026-13-01T00:00:00</date-time></dtstart>
                      <x-new><weird>v</weird></x-new>
                    </properties>
                  </vevent>
                </components>
              </vcalendar>
            </icalendar>
            """
        let back = try XCalReader().read(Array(xml.utf8))
        let ev = back.calendars[0].components[0]
        #expect(ev.uid == "u")
        #expect(ev.property("DTSTART")?.values == [.unknown("2026-13-01T00:00:00")])
        #expect(ev.property("X-NEW")?.values == [.unknown("v")])
        #expect(
            back.calendars[0].property("XML")?.text == #"<custom xmlns="http://example.com/ns">kept as XML</custom>"#)
        #expect(back.diagnostics.map(\.line) == [12, 13])
    }

    /// RFC 6321 §4.2: an element of another namespace among the properties is the iCalendar XML
    /// property, and comes back as that element when written as xCal again.
    @Test func foreignPropertyElementsTravelAsTheXMLProperty() throws {
        let xml = """
            <icalendar xmlns="urn:ietf:params:xml:ns:icalendar-2.0"><vcalendar><components><vevent><properties>\
            <uid><text>u</text></uid>\
            <m:meeting xmlns:m="http://example.com/m" xmlns:l="http://example.com/l" m:id="7" l:lang="de"><m:room cap="20">Halle &amp; 2</m:room><l:note/></m:meeting>\
            </properties><m:stray xmlns:m="http://example.com/m">outside the properties</m:stray></vevent></components></vcalendar></icalendar>
            """
        let read = try XCalReader().read(Array(xml.utf8))
        let event = read.calendars[0].components[0]
        let value = try #require(event.property("XML")?.text)
        #expect(
            value.hasPrefix(#"<meeting xmlns="http://example.com/m""#), "the element with its namespace declaration")
        #expect(
            read.diagnostics.count == 1 && read.diagnostics[0].message.contains("stray"),
            "elsewhere, a foreign element is dropped with a diagnostic")

        // Through iCalendar text and back: the XML property survives as TEXT, and xCal carries the element again.
        let ics = ICalWriter.write(read.calendars)
        let reparsed = try ICalParser().parse(ics)
        #expect(reparsed.calendars == read.calendars)
        let again = try XCalReader().read(XCalWriter.write(reparsed.calendars))
        #expect(again.calendars == read.calendars)
        let element = try SafeXMLReader().parse(Array(value.utf8))
        #expect(element.namespace == "http://example.com/m" && element.name == "meeting")
        #expect(element.attributes.contains(XMLAttribute("lang", "de", namespace: "http://example.com/l")))
        #expect(element.child("room")?.text == "Halle & 2" && element.child("room")?.attribute("cap") == "20")
        #expect(element.child("note", namespace: "http://example.com/l") != nil)

        // An XML property that is not one foreign element is an ordinary property in xCal.
        let plain = ICalComponent(name: "VCALENDAR", properties: [ICalProperty("XML", .text("not <xml"))])
        #expect(try XCalReader().read(XCalWriter.write([plain])).calendars == [plain])
    }
}

@Suite struct HostileXMLTests {
    func refuses(_ xml: String, limits: SafeXMLReader.Limits = .init()) -> XCalError? {
        do {
            _ = try XCalReader(xml: SafeXMLReader(limits: limits)).read(Array(xml.utf8))
            return nil
        } catch {
            return error
        }
    }

    @Test func billionLaughsIsRefusedWithoutExpansion() {
        let xml = """
            <?xml version="1.0"?>
            <!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
            <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
            <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">]>
            <icalendar xmlns="urn:ietf:params:xml:ns:icalendar-2.0"><vcalendar><properties><x-a><text>&lol4;</text></x-a></properties></vcalendar></icalendar>
            """
        // Refused at the DOCTYPE, before any entity is declared, let alone expanded.
        let e = refuses(xml)
        #expect(e == .xml(.doctypeRefused(line: 2)))
        #expect(e?.description == "line 2: a DOCTYPE is not allowed (DTDs and entity declarations are refused)")
    }

    @Test func anyDoctypeIsRefused() {
        let xml =
            "<?xml version=\"1.0\"?>\n<!DOCTYPE icalendar>\n<icalendar xmlns=\"urn:ietf:params:xml:ns:icalendar-2.0\"/>"
        #expect(refuses(xml) == .xml(.doctypeRefused(line: 2)))
    }

    @Test func externalEntitiesAreRefused() {
        let xml = """
            <?xml version="1.0"?>
            <!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
            <icalendar xmlns="urn:ietf:params:xml:ns:icalendar-2.0"><vcalendar><properties><x-a><text>&xxe;</text></x-a></properties></vcalendar></icalendar>
            """
        #expect(refuses(xml) == .xml(.doctypeRefused(line: 2)))
        // Without a DOCTYPE, an entity reference is refused by name, and never looked up.
        let undeclared = #"<icalendar xmlns="urn:ietf:params:xml:ns:icalendar-2.0"><x>&xxe;</x></icalendar>"#
        let e = refuses(undeclared)
        #expect(e == .xml(.entityRefused(line: 1, name: "xxe")))
        #expect(e?.description == "line 1: entity reference &xxe; is not allowed")
    }

    @Test func deepNestingIsRefused() {
        // Deep inside an xCal document (the streamed reader skips what it does not know, and
        // the limit still holds there), and as a bare tree.
        let nest = String(repeating: "<a>", count: 5000) + String(repeating: "</a>", count: 5000)
        let xml =
            #"<icalendar xmlns="urn:ietf:params:xml:ns:icalendar-2.0"><vcalendar>"# + nest + "</vcalendar></icalendar>"
        let e = refuses(xml)
        #expect(e == .xml(.tooDeep(line: 1, limit: 64)))
        #expect(e?.description == "line 1: XML nested deeper than 64 levels")
        #expect(throws: XMLReadError.tooDeep(line: 1, limit: 64)) { try SafeXMLReader().parse(Array(nest.utf8)) }
    }

    @Test func anOversizedBodyIsRefusedBeforeParsing() {
        var limits = SafeXMLReader.Limits()
        limits.maxBytes = 1000
        let e = refuses(String(repeating: " ", count: 2000), limits: limits)
        #expect(e == .xml(.tooLarge(bytes: 2000, limit: 1000)))
        #expect(e?.description == "XML body of 2000 bytes exceeds the limit of 1000 bytes")
    }

    /// (the XML, the error's words; the malformed-XML words are libxml2's, as Debian 12's 2.9.14 says them)
    @Test(arguments: [
        ("", "the XML body is empty"),
        ("<a>", "line 1: malformed XML: Extra content at the end of the document"),
        ("not xml at all", "line 1: malformed XML: Document is empty"),
        // The root is judged as soon as it opens, before the mismatched end tag is read.
        ("<a></b>", "not xCal: the root element <a> is not in the namespace urn:ietf:params:xml:ns:icalendar-2.0"),
        (
            "<icalendar xmlns=\"urn:other\"/>",
            "not xCal: the root element <icalendar> is not in the namespace urn:ietf:params:xml:ns:icalendar-2.0"
        ),
        (
            "<vevent xmlns=\"urn:ietf:params:xml:ns:icalendar-2.0\"/>",
            "not xCal: the root element is <vevent>, where <icalendar> was expected"
        ),
    ])
    func malformedOrForeignXMLGetsAClearError(_ xml: String, message: String) {
        #expect(refuses(xml)?.description == message)
    }
}
