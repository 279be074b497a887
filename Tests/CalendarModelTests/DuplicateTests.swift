import CalendarModel
import Testing

/// Duplicate UIDs in one feed (Office 365 exports one invitation many times): the grouper keeps
/// the latest revision and counts the copies it left out, and the scan (which settles unchanged
/// items without parsing them) counts the same copies, or gives up and leaves the feed to the parser.
@Suite struct DuplicateTests {
    static func feed(_ events: [String]) -> [UInt8] {
        Array(
            (["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//T//EN"] + events + ["END:VCALENDAR"]).joined(
                separator: "\r\n"
            ).utf8) + Array("\r\n".utf8)
    }

    static func event(_ uid: String, _ summary: String, rid: String? = nil) -> String {
        (["BEGIN:VEVENT", "UID:\(uid)", "DTSTAMP:20260101T000000Z", "DTSTART:20260105T090000Z", "SUMMARY:\(summary)"]
            + (rid.map { [$0] } ?? []) + ["END:VEVENT"]).joined(separator: "\r\n")
    }

    /// (the feed's events, the copies left out by key; nil when the scan must give up)
    static let cases: [(String, [String], [String: Int]?)] = [
        ("no duplicates", [event("a", "A"), event("b", "B")], [:]),
        (
            "a master and its override are not copies",
            [event("a", "A"), event("a", "A moved", rid: "RECURRENCE-ID:20260112T090000Z")], [:]
        ),
        (
            "one invitation four times",
            [event("a", "A"), event("a", "A"), event("b", "B"), event("a", "A2"), event("a", "A3")], ["a": 3]
        ),
        (
            "an override twice",
            [
                event("a", "A"), event("a", "X", rid: "RECURRENCE-ID:20260112T090000Z"),
                event("a", "Y", rid: "RECURRENCE-ID:20260112T090000Z"),
            ], ["a": 1]
        ),
        (
            "overrides of different instances",
            [
                event("a", "X", rid: "RECURRENCE-ID:20260112T090000Z"),
                event("a", "Y", rid: "RECURRENCE-ID:20260119T090000Z"),
            ], [:]
        ),
        (
            "one instance spelled with other parameters",
            [
                event("a", "X", rid: "RECURRENCE-ID:20260112T090000Z"),
                event("a", "Y", rid: "RECURRENCE-ID;VALUE=DATE-TIME:20260112T090000Z"),
            ], nil
        ),
        (
            "a RECURRENCE-ID not in upper case",
            [event("a", "A"), event("a", "X", rid: "Recurrence-ID:20260112T090000Z")], nil
        ),
    ]

    @Test(arguments: cases)
    func theScanCountsTheCopiesTheGrouperLeavesOut(name: String, events: [String], expected: [String: Int]?) throws {
        let bytes = Self.feed(events)
        let grouped = ItemGrouper.items(from: try ICalParser().parse(bytes))
        if let expected { #expect(grouped.duplicates == expected, "\(name)") }
        let scan = FeedScan.scan(bytes)
        if expected == nil {
            #expect(scan == nil, "\(name): the scan should leave this feed to the parser")
        } else {
            let scanned = Dictionary(
                uniqueKeysWithValues: (scan?.items ?? []).filter { $0.duplicates > 0 }.map { ($0.key, $0.duplicates) })
            #expect(scan != nil && scanned == grouped.duplicates, "\(name)")
        }
    }

    /// The copy kept is the latest revision, whatever the order; the others are counted.
    @Test func theLatestRevisionIsKeptAndTheOthersCounted() throws {
        let copies = ["DTSTAMP:20260101T000000Z", "DTSTAMP:20260103T000000Z", "DTSTAMP:20260102T000000Z"].enumerated()
            .map { i, stamp in
                ["BEGIN:VEVENT", "UID:inv", stamp, "DTSTART:20260105T090000Z", "SUMMARY:copy \(i)", "END:VEVENT"]
                    .joined(separator: "\r\n")
            }
        let set = ItemGrouper.items(from: try ICalParser().parse(Self.feed(copies)))
        #expect(set.items.count == 1)
        #expect(set.items[0].master?.property("SUMMARY")?.text == "copy 1")
        #expect(set.duplicates == ["inv": 2])
    }
}
