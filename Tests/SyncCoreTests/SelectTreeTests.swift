import CalendarModel
import CalWS
import SafeXML
import SyncCore
import Testing
import TestSupport

@Suite struct SelectTreeTests {
    /// The shape of the CalWS-SOAP specification's own updateItem example: DTSTART gains a TZID
    /// and a local value, SUMMARY changes, a category is added.
    @Test func theSpecificationsExampleEncodesAsItsSelectionTree() throws {
        let t = try item(["BEGIN:VEVENT", "UID:spec-1", "DTSTART:20110718T150000Z", "SUMMARY:Meeting", "END:VEVENT"])
        let s = try item([
            "BEGIN:VEVENT", "UID:spec-1", "DTSTART;TZID=America/New_York:20110718T110000", "SUMMARY:Meeting (moved)",
            "CATEGORIES:Work", "END:VEVENT",
        ])
        let d = Differ.diff(source: s, target: t)
        let xml = XMLSerializer.string(SelectTree.element(d), prefixes: CalWSNamespace.prefixes, declaration: false)
        #expect(
            xml == """
                <C:select xmlns="urn:ietf:params:xml:ns:icalendar-2.0" xmlns:C="http://docs.oasis-open.org/ws-calendar/ns/soap">\
                <vcalendar/><C:components><C:component><vevent><properties><uid><text>spec-1</text></uid></properties></vevent>\
                <C:properties>\
                <C:property><dtstart><date-time>2011-07-18T15:00:00Z</date-time></dtstart>\
                <C:parameters><C:add><tzid><text>America/New_York</text></tzid></C:add></C:parameters>\
                <C:change><dtstart><date-time>2011-07-18T11:00:00</date-time></dtstart></C:change></C:property>\
                <C:property><summary><text>Meeting</text></summary><C:change><summary><text>Meeting (moved)</text></summary></C:change></C:property>\
                <C:add><categories><text>Work</text></categories></C:add>\
                </C:properties></C:component></C:components></C:select>
                """)
        #expect(same(try Applier.apply(d, to: t), s))
    }

    @Test func selectionTreesDecodeToTheSameUpdate() throws {
        var targets = try fixtureItems().map(\.1)
        targets +=
            ItemGrouper.items(from: try ICalParser().parse(Array(FeedGenerator(events: 100, seed: 3).text().utf8)))
            .items
        var mutator = ItemMutator(rng: SplitMix64(seed: 0x5E1E))
        var checked = 0
        for t in targets {
            let d = Differ.diff(source: mutator.mutate(t), target: t)
            let bytes = XMLSerializer.serialize(SelectTree.element(d), prefixes: CalWSNamespace.prefixes)
            let back = try SelectTree.update(from: try SafeXMLReader().parse(bytes))
            #expect(back == d, "\(t.key)")
            checked += 1
        }
        #expect(checked > 100)
    }

    @Test func aMalformedTreeIsAClearErrorWithItsLine() throws {
        let xml = """
            <C:select xmlns="urn:ietf:params:xml:ns:icalendar-2.0" xmlns:C="http://docs.oasis-open.org/ws-calendar/ns/soap">
              <vcalendar/>
              <C:frobnicate/>
            </C:select>
            """
        #expect(throws: SelectTreeError(line: 3, message: "unexpected <frobnicate> in <select>")) {
            try SelectTree.update(from: try SafeXMLReader().parse(Array(xml.utf8)))
        }
    }
}
