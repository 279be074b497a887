import CalendarModel
import Foundation
import Testing
import SafeXML
import XCal

/// The realistic exports under Tests/CalendarModelTests/Fixtures, each with its golden xCal beside it.
enum ExportFixtures {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("CalendarModelTests/Fixtures")

    static let names: [String] = {
        let all = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        return all.filter { $0.hasSuffix(".ics") }.map { String($0.dropLast(4)) }.sorted()
    }()

    static func bytes(_ file: String) throws -> [UInt8] {
        Array(try Data(contentsOf: directory.appendingPathComponent(file)))
    }

    static func document(_ name: String) throws -> ICalDocument {
        try ICalParser().parse(bytes(name + ".ics"))
    }
}

@Suite struct FixtureTests {
    @Test func everyFixtureHasAGoldenXCal() {
        #expect(ExportFixtures.names.count >= 11)
    }

    @Test(arguments: ExportFixtures.names)
    func xcalMatchesTheGoldenFileAndConvertsBackLosslessly(name: String) throws {
        let doc = try ExportFixtures.document(name)
        let xml = XCalWriter.write(doc.calendars) + [0x0A]
        let golden = try ExportFixtures.bytes(name + ".xml")
        #expect(xml == golden, "\(name).xml differs from what to-xcal writes now")
        let back = try XCalReader().read(golden)
        #expect(back.diagnostics.isEmpty, "\(back.diagnostics)")
        #expect(back.calendars == doc.calendars, "iCal → xCal → iCal changed \(name)")
        // And through the iCalendar writer once more.
        #expect(try ICalParser().parse(ICalWriter.write(back.calendars)).calendars == doc.calendars)
        // The streamed reading and the reading of the XML tree in memory give one document.
        var tree = XMLElementWalker(try SafeXMLReader().parse(golden))
        let fromTree = try XCalReader.document(&tree)
        #expect(fromTree.calendars == back.calendars)
        #expect(fromTree.diagnostics == back.diagnostics)
        // And the tree that the writer builds is the one it streams.
        #expect(XMLSerializer.serialize(XCalWriter.document(doc.calendars), prefixes: [XCalWriter.namespace: ""]) + [0x0A] == golden)
    }

    @Test(arguments: ExportFixtures.names.filter { $0 != "broken-lines" })
    func wellFormedExportsParseWithoutDiagnostics(name: String) throws {
        let doc = try ExportFixtures.document(name)
        let set = ItemGrouper.items(from: doc)
        #expect(set.diagnostics.isEmpty, "\(name): \(set.diagnostics)")
        #expect(!set.items.isEmpty)
    }

    @Test func aSloppyFeedIsReadWithADiagnosticPerProblemAndTheRestIntact() throws {
        let doc = try ExportFixtures.document("broken-lines")
        let set = ItemGrouper.items(from: doc)
        let lines = Set(doc.diagnostics.map(\.line))
        #expect(lines == [10, 17, 19, 20, 49, 60], "\(doc.diagnostics)")
        #expect(doc.diagnostics.first { $0.line == 10 }?.uid == "bad-date-1@sloppy.example")
        #expect(set.diagnostics.contains { $0.message.contains("has no UID") })
        #expect(set.diagnostics.contains { $0.uid == "dup-master-3@sloppy.example" })
        let byKey = Dictionary(uniqueKeysWithValues: set.items.map { ($0.key, $0) })
        #expect(byKey["dup-master-3@sloppy.example"]?.master?.property("SEQUENCE")?.value == .integer(2))
        for valid in ["valid-6@sloppy.example", "valid-7@sloppy.example"] {
            #expect(byKey[valid] != nil, "\(valid) was lost")
            #expect(!doc.diagnostics.contains { $0.uid == valid })
        }
        #expect(doc.calendars[0].components.filter { $0.name == "VEVENT" }.count == 9, "no event nested inside another")
        let odd = byKey["odd-values-5@sloppy.example"]!.master!
        #expect(odd.property("ATTENDEE")?.parameter("CN") == "Dr. \"Bob\" ^ Co")
        #expect(odd.properties.contains { $0.parameter("ALTREP") == "http://example.com/x:y" })
    }

    @Test func googleSeriesGroupsOverridesAndTimezones() throws {
        let set = ItemGrouper.items(from: try ExportFixtures.document("google-calendar"))
        let series = set.items.first { $0.overrides.count >= 2 }
        #expect(series != nil)
        #expect(series?.master?.property("RRULE") != nil)
        #expect(series?.timezones.map { $0.property("TZID")?.text } == ["Europe/Berlin"])
        #expect(series?.master?.property("EXDATE")?.values.count == 2)
    }

    @Test func outlookWindowsZoneNamesAreKeptExactly() throws {
        let set = ItemGrouper.items(from: try ExportFixtures.document("outlook-windows-zones"))
        let zones = Set(set.items.flatMap(\.timezones).compactMap { $0.property("TZID")?.text })
        #expect(zones.contains("W. Europe Standard Time"))
        let written = ICalWriter.string([set.items[0].calendar()])
        #expect(written.contains("TZID=\"W. Europe Standard Time\"") || written.contains("TZID=W. Europe Standard Time"))
    }

    @Test func longFoldedUTF8TextIsRestoredExactly() throws {
        let doc = try ExportFixtures.document("long-folded-utf8")
        let texts = doc.calendars[0].components.compactMap { $0.property("DESCRIPTION")?.text }
        #expect(texts.contains { $0.contains("👩‍👩‍👧") })
        #expect(!texts.joined().contains("\u{FFFD}"))
    }

    @Test func twoCalendarsInOneStreamShareItems() throws {
        let doc = try ExportFixtures.document("two-calendars")
        #expect(doc.calendars.count == 2)
        let set = ItemGrouper.items(from: doc)
        #expect(set.items.contains { $0.master != nil && !$0.overrides.isEmpty })
    }
}
