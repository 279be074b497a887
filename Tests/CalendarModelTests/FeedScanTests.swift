import Testing
import TestSupport
@testable import CalendarModel

private let zone = [
    "BEGIN:VTIMEZONE", "TZID:Europe/Berlin", "BEGIN:STANDARD", "DTSTART:19701025T030000",
    "TZOFFSETFROM:+0200", "TZOFFSETTO:+0100", "END:STANDARD", "END:VTIMEZONE",
]

private func calendar(_ lines: [String]) -> [UInt8] {
    Array(ics(["BEGIN:VCALENDAR", "PRODID:t", "VERSION:2.0"] + lines + ["END:VCALENDAR"]).utf8)
}

private func event(_ uid: String, _ summary: String = "S", extra: [String] = []) -> [String] {
    ["BEGIN:VEVENT", "UID:\(uid)", "DTSTART;TZID=Europe/Berlin:20260105T090000", "SUMMARY:\(summary)"] + extra + [
        "END:VEVENT"
    ]
}

@Suite struct FeedScanTests {
    @Test func itemsAreFoundByUIDWithTheirComponentsAndTheRestIsContext() throws {
        let override = [
            "BEGIN:VEVENT", "UID:a", "RECURRENCE-ID;TZID=Europe/Berlin:20260112T090000", "SUMMARY:Moved", "END:VEVENT",
        ]
        let alarm = ["BEGIN:VALARM", "UID:not-the-item", "ACTION:DISPLAY", "TRIGGER:-PT1H", "END:VALARM"]
        let bytes = calendar(zone + event("a", extra: ["RRULE:FREQ=WEEKLY"]) + event("b", extra: alarm) + override)
        let scan = try #require(FeedScan.scan(bytes))
        #expect(scan.items.map(\.key) == ["a", "b"])
        #expect(scan.items[0].ranges.count == 2)
        for r in scan.items.flatMap(\.ranges) {
            let text = String(decoding: bytes[r], as: UTF8.self)
            #expect(text.hasPrefix("BEGIN:VEVENT\r\n") && text.hasSuffix("END:VEVENT\r\n"))
        }
        // The feed with only b's components still has the calendar and its zone.
        let subset = scan.subset(of: bytes, keeping: ["b"])
        let set = ItemGrouper.items(from: try ICalParser().parse(subset))
        let full = ItemGrouper.items(from: try ICalParser().parse(bytes))
        #expect(set.items.map(\.key) == ["b"])
        #expect(set.items[0] == full.items[1])
    }

    @Test func anItemsDigestChangesWithItsBytesTheRestOfTheCalendarAndTheSalt() throws {
        let base = calendar(zone + event("a") + event("b"))
        let digests = try #require(FeedScan.scan(base)).digests(salt: [1])
        #expect(Set(digests).count == 2)
        #expect(try #require(FeedScan.scan(base)).digests(salt: [1]) == digests, "the same every time")
        let changedB = calendar(zone + event("a") + event("b", "Other"))
        let d2 = try #require(FeedScan.scan(changedB)).digests(salt: [1])
        #expect(d2[0] == digests[0] && d2[1] != digests[1])
        let reordered = calendar(zone + event("b") + event("a"))
        let d3 = try #require(FeedScan.scan(reordered)).digests(salt: [1])
        #expect(d3 == [digests[1], digests[0]], "an item's bytes are its own wherever it stands")
        var otherZone = zone
        otherZone[5] = "TZOFFSETTO:+0000"
        let changedZone = calendar(otherZone + event("a") + event("b"))
        #expect(try #require(FeedScan.scan(changedZone)).digests(salt: [1]).allSatisfy { !digests.contains($0) })
        #expect(try #require(FeedScan.scan(base)).digests(salt: [2]).allSatisfy { !digests.contains($0) })
    }

    @Test(arguments: [
        ["BEGIN:VEVENT", "UID:folded-", " uid", "END:VEVENT"],
        ["BEGIN:VEVENT", "UID:a\\,b", "END:VEVENT"],
        ["BEGIN:VEVENT", "UID;X-P=1:a", "END:VEVENT"],
        ["BEGIN:VEVENT", "UID:a", "UID:b", "END:VEVENT"],
        ["BEGIN:VEVENT", "SUMMARY:no uid", "END:VEVENT"],
        ["begin:VEVENT", "UID:a", "END:VEVENT"],
        ["BEGIN:VEVENT", "UID:a", "end:vevent", "END:VEVENT"],
        ["BEGIN:VEVENT", "UID:a"],
        ["BEGIN:VEVENT", "UID:a", "END:VTODO"],
        ["BEGIN:VEVENT", "UID:ü", "END:VEVENT"],
    ])
    func givesUpWhereTheParserCouldReadItOtherwise(_ lines: [String]) {
        #expect(FeedScan.scan(calendar(lines)) == nil)
    }

    @Test func givesUpOnTextOutsideACalendar() {
        #expect(
            FeedScan.scan(Array(("X-JUNK:1\r\n" + String(decoding: calendar(event("a")), as: UTF8.self)).utf8)) == nil)
        #expect(FeedScan.scan(Array("not a calendar".utf8)) == nil)
    }

    /// Scanned a piece at a time as a download delivers it (lines and even CRLFs cut anywhere),
    /// a feed gives the very scan it gives whole; and the scan still gives up where it should.
    @Test(arguments: [1, 13, 4096])
    func scanningAPieceAtATimeGivesTheSameScan(piece: Int) throws {
        let override = [
            "BEGIN:VEVENT", "UID:a", "RECURRENCE-ID;TZID=Europe/Berlin:20260112T090000", "SUMMARY:Moved", "END:VEVENT",
        ]
        let feeds = [
            calendar(zone + event("a") + event("b") + override), Array(FeedGenerator(events: 40).text().utf8),
            [0xEF, 0xBB, 0xBF] + calendar(event("bom")),
        ]
        for bytes in feeds {
            var scanner = FeedScanner()
            var sofar: [UInt8] = []
            for start in stride(from: 0, to: bytes.count, by: piece) {
                sofar += bytes[start..<min(start + piece, bytes.count)]
                sofar.withUnsafeBufferPointer { scanner.scan($0) }
            }
            let pieces = try #require(bytes.withUnsafeBufferPointer { scanner.finish($0) })
            #expect(pieces == FeedScan.scan(bytes))
        }
        var scanner = FeedScanner()
        let folded = calendar(["BEGIN:VEVENT", "UID:folded-", " uid", "END:VEVENT"])
        for end in stride(from: piece, to: folded.count, by: piece) {
            folded[..<end].withUnsafeBufferPointer { scanner.scan($0) }
        }
        #expect(folded.withUnsafeBufferPointer { scanner.finish($0) } == nil)
    }

    /// The digest made as the body arrives is the same however it arrives, and differs when a
    /// byte does (in an item, in the context, or where the items are); a body that cannot be
    /// scanned, or is not scanned, gets its SHA-256.
    @Test func aFeedDigestFollowsEveryByte() {
        func digest(_ bytes: [UInt8], pieces: [Int] = [], scanning: Bool = true) -> (String, FeedScan?) {
            let d = FeedDigest(scanning: scanning)
            for end in pieces { bytes[..<end].withUnsafeBufferPointer { d.received($0) } }
            return d.finish(bytes)
        }
        let bytes = calendar(zone + event("a") + event("b"))
        let (whole, scan) = digest(bytes)
        #expect(scan?.items.map(\.key) == ["a", "b"])
        #expect(digest(bytes, pieces: [10, 100, bytes.count]).0 == whole)
        let variants = [
            calendar(zone + event("a", "T") + event("b")), calendar(event("a") + zone + event("b")),
            calendar(zone + event("b") + event("a")), calendar(zone + event("a") + event("b") + ["X-A:1"]),
        ]
        for v in variants { #expect(digest(v).0 != whole) }
        #expect(digest(bytes, scanning: false) == (CanonicalForm.sha256Hex(bytes), nil))
        #expect(digest(bytes, pieces: [10, 100], scanning: false).0 == CanonicalForm.sha256Hex(bytes))
        let unscannable = calendar(["BEGIN:VEVENT", "UID:folded-", " uid", "END:VEVENT"])
        #expect(digest(unscannable, pieces: [30]) == (CanonicalForm.sha256Hex(unscannable), nil))
    }

    /// Wherever the scan reads a feed, it finds the items the parser finds, and a subset holding
    /// all of them parses to the same items.
    @Test func onEveryFixtureAndTheGeneratedFeedTheScanAgreesWithTheParser() throws {
        var feeds = try Fixtures.icalendarFiles().map { ($0.name, $0.bytes) }
        feeds.append(("generated", Array(FeedGenerator(events: 300).text().utf8)))
        var scanned = 0
        for (name, bytes) in feeds {
            guard let scan = FeedScan.scan(bytes) else { continue }
            scanned += 1
            let set = ItemGrouper.items(from: try ICalParser().parse(bytes))
            #expect(scan.items.map(\.key) == set.items.map(\.key), "\(name)")
            let keys = Set(scan.items.map(\.key))
            let again = ItemGrouper.items(from: try ICalParser().parse(scan.subset(of: bytes, keeping: keys)))
            #expect(again.items == set.items, "\(name)")
            if let first = scan.items.first {
                let one = ItemGrouper.items(from: try ICalParser().parse(scan.subset(of: bytes, keeping: [first.key])))
                #expect(one.items == [set.items[0]], "\(name)")
            }
        }
        #expect(scanned >= 5, "the scan reads most exports")
        #expect(FeedScan.scan(feeds.last!.1) != nil, "the generated feed is scanned")
    }
}
