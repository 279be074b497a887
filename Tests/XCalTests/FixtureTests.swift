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
    /// The parameterized tests below run one case per fixture found: if the folder moved they
    /// would run none and pass, so this fails then, and when a fixture lacks its golden file.
    @Test func everyFixtureHasAGoldenXCal() throws {
        var isDirectory: ObjCBool = false
        try #require(
            FileManager.default.fileExists(atPath: ExportFixtures.directory.path, isDirectory: &isDirectory)
                && isDirectory.boolValue,
            "no fixtures folder at \(ExportFixtures.directory.path)")
        #expect(ExportFixtures.names.count >= 11, "\(ExportFixtures.names)")
        for name in ExportFixtures.names {
            #expect(
                FileManager.default.fileExists(
                    atPath: ExportFixtures.directory.appendingPathComponent(name + ".xml").path),
                "\(name).ics has no golden \(name).xml beside it")
        }
        let goldens = try FileManager.default.contentsOfDirectory(atPath: ExportFixtures.directory.path).filter {
            $0.hasSuffix(".xml")
        }
        #expect(
            Set(goldens.map { String($0.dropLast(4)) }) == Set(ExportFixtures.names),
            "a golden file without its fixture")
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
        #expect(
            XMLSerializer.serialize(XCalWriter.document(doc.calendars), prefixes: [XCalWriter.namespace: ""]) + [0x0A]
                == golden)
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
        #expect(
            written.contains("TZID=\"W. Europe Standard Time\"") || written.contains("TZID=W. Europe Standard Time"))
    }

    /// Every summary and description, folded across lines and often inside a UTF-8 sequence,
    /// reads back as the whole text, byte for byte (the texts below are the file unfolded and
    /// unescaped by other means).
    @Test func longFoldedUTF8TextIsRestoredExactly() throws {
        let doc = try ExportFixtures.document("long-folded-utf8")
        #expect(doc.diagnostics.isEmpty, "\(doc.diagnostics)")
        let events = doc.calendars[0].components.filter { $0.name == "VEVENT" }
        let expected: [(summary: String, description: String)] = [
            (
                "Sommerfest 2026 🎉 – Grüße aus Köln, Zürich & Düsseldorf: Bärbel, Jürgen und Björn laden euch und eure Kinder ein 👩\u{200D}👩\u{200D}👧",
                "Liebe Kolleginnen und Kollegen, 🎉 wir feiern am Samstag, den 4.7. unser Sommerfest im Hof der Brauerei Schönhauser Allee. Für Getränke, Würstchen und vegane Köstlichkeiten ist gesorgt; Familien sind herzlich willkommen 👩\u{200D}👩\u{200D}👧 – für die Kinder gibt es eine Hüpfburg und Kinderschminken. Bitte gebt bis zum 20. Juni Bescheid, ob ihr kommt. Größere Gruppen (über fünf Personen) meldet bitte bei Bärbel Weiß an. Übrigens: Fußball-Übertragung ab 21 Uhr auf der Leinwand! 🍺🌭⚽"
            ),
            (
                "Συνάντηση ομάδας — προϋπολογισμός 2027 και στόχοι του τρίτου τριμήνου 📊",
                "Καλημέρα σε όλους! Θα συζητήσουμε τον προϋπολογισμό του 2027, τις προτεραιότητες του τμήματος και το χρονοδιάγραμμα για τις νέες προσλήψεις. Παρακαλώ διαβάστε το συνημμένο έγγραφο πριν από τη συνάντηση. Ευχαριστώ! Ωραία μέρα σε όλους 🌞"
            ),
            (
                "チームミーティング：新年度の計画と予算について話し合います 🎌 東京本社",
                "皆さん、お疲れ様です。来年度の開発計画と予算について話し合います。会議室は東京本社の五階、第三会議室です。資料は事前に共有フォルダにアップロードしますので、必ず目を通してください。オンライン参加の方はビデオ会議のリンクをご利用ください。よろしくお願いいたします。🍣🍵🗾"
            ),
            (
                "اجتماع الفريق الأسبوعي — مراجعة خطة المشروع للربع الأول من عام 2027",
                "مرحباً بالجميع، سنراجع في هذا الاجتماع خطة المشروع والميزانية والجدول الزمني للمرحلة القادمة. يرجى قراءة المستندات المرفقة قبل الاجتماع وإحضار أسئلتكم. شكراً لكم 🌙✨"
            ),
            (
                "Mixed: Ünïcödé ✓ Ελληνικά ✓ 日本語 ✓ العربية ✓ emoji 🎉👩\u{200D}👩\u{200D}👧🇩🇪🇯🇵🇬🇷",
                "Escapes and scripts together: path C:\\Users\\Jürgen\\Documents\\Fest\\Gäste.xlsx; ratio 3:2; list a;b;c; regex ^\\d+;\\s*$; a literal backslash-n \\n is not a newline here; real newline follows:\nZweite Zeile – δεύτερη γραμμή – 二行目 – السطر الثاني 🎉"
            ),
        ]
        #expect(events.count == expected.count)
        for (event, want) in zip(events, expected) {
            let summary = event.property("SUMMARY")?.text ?? ""
            let description = event.property("DESCRIPTION")?.text ?? ""
            #expect(Array(summary.utf8) == Array(want.summary.utf8), "SUMMARY: \(summary)")
            #expect(Array(description.utf8) == Array(want.description.utf8), "DESCRIPTION: \(description)")
        }
    }

    @Test func twoCalendarsInOneStreamShareItems() throws {
        let doc = try ExportFixtures.document("two-calendars")
        #expect(doc.calendars.count == 2)
        let set = ItemGrouper.items(from: doc)
        #expect(set.items.contains { $0.master != nil && !$0.overrides.isEmpty })
    }
}
